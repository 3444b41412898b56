package e2e

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"berth.dev/berth/internal/config"
	"berth.dev/berth/internal/sandbox"
	_ "berth.dev/berth/internal/sandbox/gvisor" // the drivers the e2e servers may use
	_ "berth.dev/berth/internal/sandbox/linuxns"
	_ "berth.dev/berth/internal/sandbox/microvm"
	"berth.dev/berth/internal/sandbox/netns"
	_ "berth.dev/berth/internal/sandbox/process"
	"berth.dev/berth/test/testserver"
)

// driverName is the driver every e2e server uses: BERTH_TEST_SANDBOX, or linuxns, the
// default isolation of a host without KVM. With BERTH_TEST_SANDBOX=process the suite runs
// on the development driver.
func driverName() string {
	if name := os.Getenv("BERTH_TEST_SANDBOX"); name != "" {
		return name
	}
	return "linuxns"
}

// sandboxDriver returns driverName, skipping the test where that driver cannot run.
func sandboxDriver(t *testing.T) string {
	t.Helper()
	name := driverName()
	data := t.TempDir()
	linkMicroVM(t, name, data)
	d, err := sandbox.New(name, sandbox.Options{StateDir: data + "/sandboxes", AllowTCG: true})
	if err != nil {
		t.Fatalf("BERTH_TEST_SANDBOX=%s: %v", name, err)
	}
	if err := d.Available(); err != nil {
		t.Skipf("the %s sandbox driver cannot run here: %v", name, err)
	}
	return name
}

// sessionStartWait bounds how long a test waits for a new session's agent: 30 s, or 3
// minutes on the microvm driver, whose guests run emulated (TCG) on hosts without KVM —
// there a Python agent's first start in a fresh VM (no agent snapshot yet) takes 10–20 s
// of CPU, more when several start at once on two cores.
func sessionStartWait() time.Duration {
	if driverName() == "microvm" {
		return 3 * time.Minute
	}
	return 30 * time.Second
}

// testServer is an in-process berth server on a loopback port.
type testServer struct{ *testserver.Server }

// serverSeq numbers the servers this test process starts.
var serverSeq atomic.Int64

// startServer runs a server over a fresh data dir until the test ends.
func startServer(t *testing.T, tweaks ...func(*config.Config)) *testServer {
	t.Helper()
	if err := netns.Available(); err != nil {
		t.Skipf("the sandbox drivers need network namespaces (run as root): %v", err)
	}
	data := t.TempDir()
	cfg := testserver.Config(data, sandboxDriver(t))
	linkMicroVM(t, cfg.Sandbox.Driver, data)
	cfg.Sandbox.AllowTCG = true // microvm runs under TCG on hosts without KVM, as in CI
	if cfg.Sandbox.Driver == "microvm" {
		cfg.Sessions.InitTimeout = sessionStartWait()
	}
	// Servers run side by side in this process: each gets its own egress table, veth
	// names and /24, and sets up PUBLIC networks on demand instead of keeping a pool.
	n := serverSeq.Add(1)
	cfg.Sandbox.Egress.Tag = fmt.Sprintf("e%d", n%1000)
	cfg.Sandbox.Egress.Subnet = fmt.Sprintf("10.232.%d.0/24", n%256)
	cfg.Sandbox.Egress.PoolSize = -1
	for _, tw := range tweaks {
		tw(&cfg)
	}
	return &testServer{testserver.Start(t, cfg)}
}

func (ts *testServer) s3(t *testing.T) *s3.Client {
	t.Helper()
	return s3.New(s3.Options{
		BaseEndpoint: aws.String(ts.URL + "/s3"),
		Region:       "us-east-1",
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(ts.Creds.AccessKeyID, ts.Creds.SecretAccessKey, ""),
	})
}

// agentZip builds a code zip holding main.py.
func agentZip(t *testing.T, entry string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create(entry)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(w, "print('hello from an agent')\n")
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// upload puts body at s3://bucket/key in the server's built-in store, creating the bucket.
func (ts *testServer) upload(t *testing.T, bucket, key string, body []byte) {
	t.Helper()
	ctx := context.Background()
	c := ts.s3(t)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil && !strings.Contains(err.Error(), "BucketAlreadyOwnedByYou") {
		t.Fatalf("create bucket: %v", err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
		t.Fatalf("put object: %v", err)
	}
}

// codeArtifact references a zip in the built-in store.
func codeArtifact(bucket, key string) *types.AgentRuntimeArtifactMemberCodeConfiguration {
	return &types.AgentRuntimeArtifactMemberCodeConfiguration{Value: types.CodeConfiguration{
		Code:       &types.CodeMemberS3{Value: types.S3Location{Bucket: aws.String(bucket), Prefix: aws.String(key)}},
		Runtime:    types.AgentManagedRuntimeTypePython313,
		EntryPoint: []string{"main.py"},
	}}
}

var (
	testRole    = aws.String("arn:aws:iam::000000000000:role/AgentRole")
	testNetwork = &types.NetworkConfiguration{NetworkMode: types.NetworkModePublic}
)

// waitStatus polls GetAgentRuntime (as SDK waiters do) until the status is final.
func waitStatus(t *testing.T, c *bedrockagentcorecontrol.Client, id string, version *string) *bedrockagentcorecontrol.GetAgentRuntimeOutput {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, err := c.GetAgentRuntime(ctx, &bedrockagentcorecontrol.GetAgentRuntimeInput{AgentRuntimeId: aws.String(id), AgentRuntimeVersion: version})
		if err != nil {
			t.Fatalf("get runtime %s: %v", id, err)
		}
		switch out.Status {
		case types.AgentRuntimeStatusCreating, types.AgentRuntimeStatusUpdating:
		default:
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("runtime %s still %s after 60s", id, out.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// asType asserts err is of type T.
func asType[T error](t *testing.T, err error) T {
	t.Helper()
	var target T
	if !errors.As(err, &target) {
		t.Fatalf("error = %T %v, want %T", err, err, target)
	}
	return target
}

// addHeader adds a raw HTTP header to an SDK request (custom headers are not modelled).
func addHeader(name, value string) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Build.Add(middleware.BuildMiddlewareFunc("berth-test-header-"+name, func(ctx context.Context, in middleware.BuildInput, next middleware.BuildHandler) (middleware.BuildOutput, middleware.Metadata, error) {
			if req, ok := in.Request.(*smithyhttp.Request); ok {
				req.Header.Set(name, value)
			}
			return next.HandleBuild(ctx, in)
		}), middleware.After)
	}
}

// sessionRecord is one entry of GET /berth/v1/sessions.
type sessionRecord struct {
	ID        string `json:"id"`
	SessionID string `json:"runtimeSessionId"`
	State     string `json:"state"`
	EndReason string `json:"endReason"`
	Version   string `json:"agentRuntimeVersion"`
}

// sessions lists session records through Berth's extension API.
func (ts *testServer) sessions(t *testing.T, query string) []sessionRecord {
	t.Helper()
	resp := signedRequest(t, "GET", ts.URL+"/berth/v1/sessions?"+query, "", ts.Creds, time.Now())
	if resp.StatusCode != 200 {
		t.Fatalf("list sessions: %d %s", resp.StatusCode, resp.Body)
	}
	var out struct {
		Sessions []sessionRecord `json:"sessions"`
	}
	if err := json.Unmarshal(resp.Body, &out); err != nil {
		t.Fatal(err)
	}
	return out.Sessions
}
