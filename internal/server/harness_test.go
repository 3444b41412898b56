package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"berth.dev/berth/internal/config"
	"berth.dev/berth/internal/sandbox"
	_ "berth.dev/berth/internal/sandbox/linuxns" // the driver these tests run
	"berth.dev/berth/test/testagent"
	"berth.dev/berth/test/testserver"
)

// testServer is an in-process berth server on a loopback port, on the linuxns driver.
type testServer struct{ *testserver.Server }

// linuxnsOrSkip skips the test where the namespaces driver cannot run (not root).
func linuxnsOrSkip(t testing.TB) {
	t.Helper()
	d, err := sandbox.New("linuxns", sandbox.Options{StateDir: t.TempDir()})
	if err != nil {
		t.Fatalf("linuxns driver: %v", err)
	}
	if err := d.Available(); err != nil {
		t.Skipf("the linuxns sandbox driver cannot run here (it needs root): %v", err)
	}
}

func startServer(t testing.TB, dataDir string, tweaks ...func(*config.Config)) *testServer {
	t.Helper()
	linuxnsOrSkip(t)
	cfg := testserver.Config(dataDir, "linuxns")
	cfg.Sessions.PoolSize = 0
	for _, tw := range tweaks {
		tw(&cfg)
	}
	return &testServer{testserver.Start(t, cfg)}
}

// deployAgent pushes the Go test agent as an image and deploys it; it returns the runtime
// id and ARN once READY.
func (ts *testServer) deployAgent(t testing.TB, runtimeName string) (id, arn string) {
	t.Helper()
	uri := ts.Addr + "/telemetry/" + runtimeName + ":v1"
	ref, err := name.ParseReference(uri, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, testagent.Image(t), remote.WithAuth(&authn.Basic{Username: ts.Creds.AccessKeyID, Password: ts.Creds.SecretAccessKey})); err != nil {
		t.Fatalf("push %s: %v", uri, err)
	}
	c := ts.Control()
	ctx := context.Background()
	out, err := c.CreateAgentRuntime(ctx, &cp.CreateAgentRuntimeInput{
		AgentRuntimeName: aws.String(runtimeName),
		AgentRuntimeArtifact: &types.AgentRuntimeArtifactMemberContainerConfiguration{
			Value: types.ContainerConfiguration{ContainerUri: aws.String(uri)}},
		RoleArn:              aws.String("arn:aws:iam::000000000000:role/AgentRole"),
		NetworkConfiguration: &types.NetworkConfiguration{NetworkMode: types.NetworkModePublic},
	})
	if err != nil {
		t.Fatalf("create runtime: %v", err)
	}
	id = aws.ToString(out.AgentRuntimeId)
	deadline := time.Now().Add(60 * time.Second)
	for {
		got, err := c.GetAgentRuntime(ctx, &cp.GetAgentRuntimeInput{AgentRuntimeId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		switch got.Status {
		case types.AgentRuntimeStatusCreating, types.AgentRuntimeStatusUpdating:
		case types.AgentRuntimeStatusReady:
			return id, aws.ToString(out.AgentRuntimeArn)
		default:
			t.Fatalf("runtime %s: %s (%s)", id, got.Status, aws.ToString(got.FailureReason))
		}
		if time.Now().After(deadline) {
			t.Fatalf("runtime %s still %s after 60s", id, got.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sid makes a valid runtime session id (at least 33 characters).
func sid(n string) string { return "session-" + n + "-" + strings.Repeat("0", 33) }

// invoke sends payload to the session and returns the HTTP status the SDK saw (200, or the
// status of the API error).
func (ts *testServer) invoke(t testing.TB, arn, session, payload string) (int, string) {
	t.Helper()
	out, err := ts.Data().InvokeAgentRuntime(context.Background(), &bedrockagentcore.InvokeAgentRuntimeInput{
		AgentRuntimeArn: aws.String(arn), RuntimeSessionId: aws.String(session),
		ContentType: aws.String("application/json"), Payload: []byte(payload),
	})
	if err != nil {
		var re interface{ HTTPStatusCode() int }
		if errors.As(err, &re) {
			return re.HTTPStatusCode(), err.Error()
		}
		t.Fatalf("invoke %s: %v", payload, err)
	}
	defer func() { _ = out.Response.Close() }()
	body, err := io.ReadAll(out.Response)
	if err != nil {
		t.Fatal(err)
	}
	return http.StatusOK, string(body)
}

// stop ends the session with StopRuntimeSession.
func (ts *testServer) stop(t *testing.T, arn, session string) {
	t.Helper()
	if _, err := ts.Data().StopRuntimeSession(context.Background(), &bedrockagentcore.StopRuntimeSessionInput{
		AgentRuntimeArn: aws.String(arn), RuntimeSessionId: aws.String(session),
	}); err != nil {
		t.Fatalf("stop session: %v", err)
	}
}

// get sends a SigV4-signed GET (service bedrock-agentcore) and returns status and body.
func (ts *testServer) get(t *testing.T, path string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	empty := sha256.Sum256(nil)
	if err := v4.NewSigner().SignHTTP(context.Background(), ts.Creds, req, hex.EncodeToString(empty[:]), "bedrock-agentcore", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

// usageRow is one row (or the total) of GET /berth/v1/usage.
type usageRow struct {
	AgentRuntimeID   string  `json:"agentRuntimeId"`
	Endpoint         string  `json:"endpointName"`
	RuntimeSessionID string  `json:"runtimeSessionId"`
	Period           string  `json:"period"`
	Sessions         int     `json:"sessions"`
	Seconds          float64 `json:"seconds"`
	VCPUSeconds      float64 `json:"vcpuSeconds"`
	GBSeconds        float64 `json:"gbSeconds"`
	VCPUHours        float64 `json:"vcpuHours"`
	GBHours          float64 `json:"gbHours"`
	CPUCost          float64 `json:"cpuCost"`
	MemoryCost       float64 `json:"memoryCost"`
	Cost             float64 `json:"cost"`
}

type usageReport struct {
	GroupBy []string   `json:"groupBy"`
	Usage   []usageRow `json:"usage"`
	Total   usageRow   `json:"total"`
	Prices  struct {
		Currency        string  `json:"currency"`
		CPUPerVCPUHour  float64 `json:"cpuPerVcpuHour"`
		MemoryPerGBHour float64 `json:"memoryPerGbHour"`
	} `json:"prices"`
}

func (ts *testServer) usage(t *testing.T, query string) usageReport {
	t.Helper()
	status, body := ts.get(t, "/berth/v1/usage?"+query)
	if status != http.StatusOK {
		t.Fatalf("GET /berth/v1/usage?%s: %d %s", query, status, body)
	}
	var r usageReport
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("decode usage: %v\n%s", err, body)
	}
	return r
}

// sessionRecord is the part of GET /berth/v1/sessions the tests read.
type sessionRecord struct {
	SessionID string `json:"runtimeSessionId"`
	StartedAt string `json:"startedAt"`
	EndedAt   string `json:"endedAt"`
}

func (ts *testServer) record(t *testing.T, runtimeID, session string) sessionRecord {
	t.Helper()
	status, body := ts.get(t, "/berth/v1/sessions?agentRuntimeId="+runtimeID+"&runtimeSessionId="+session)
	if status != http.StatusOK {
		t.Fatalf("list sessions: %d %s", status, body)
	}
	var out struct {
		Sessions []sessionRecord `json:"sessions"`
	}
	if err := json.Unmarshal(body, &out); err != nil || len(out.Sessions) != 1 {
		t.Fatalf("sessions of %s: %v %s", session, err, body)
	}
	return out.Sessions[0]
}
