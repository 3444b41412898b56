package e2e

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// deployed is a READY runtime.
type deployed struct {
	ID  string
	ARN string
}

// deploy creates a runtime and waits for READY.
func (ts *testServer) deploy(t *testing.T, in *cp.CreateAgentRuntimeInput) deployed {
	t.Helper()
	if in.RoleArn == nil {
		in.RoleArn = testRole
	}
	if in.NetworkConfiguration == nil {
		in.NetworkConfiguration = testNetwork
	}
	c := ts.Control()
	out, err := c.CreateAgentRuntime(context.Background(), in)
	if err != nil {
		t.Fatalf("create %s: %v", aws.ToString(in.AgentRuntimeName), err)
	}
	got := waitStatus(t, c, aws.ToString(out.AgentRuntimeId), nil)
	if got.Status != types.AgentRuntimeStatusReady {
		t.Fatalf("%s: %s (%s)", aws.ToString(in.AgentRuntimeName), got.Status, aws.ToString(got.FailureReason))
	}
	return deployed{ID: aws.ToString(out.AgentRuntimeId), ARN: aws.ToString(out.AgentRuntimeArn)}
}

// deployPython uploads testdata/pyagent as a code zip and deploys it.
func (ts *testServer) deployPython(t *testing.T, name string, env map[string]string) deployed {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	src, err := os.ReadFile(filepath.Join("testdata", "pyagent", "main.py"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := zw.Create("main.py")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(src); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	ts.upload(t, "agents", name+".zip", buf.Bytes())
	return ts.deploy(t, &cp.CreateAgentRuntimeInput{
		AgentRuntimeName:     aws.String(name),
		AgentRuntimeArtifact: codeArtifact("agents", name+".zip"),
		EnvironmentVariables: env,
	})
}

// pushImage pushes img to the server's registry as repo:tag and returns the containerUri.
func (ts *testServer) pushImage(t *testing.T, img v1.Image, repoTag string) string {
	t.Helper()
	uri := ts.Addr + "/" + repoTag
	ref, err := name.ParseReference(uri, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img, remote.WithAuth(&authn.Basic{Username: ts.Creds.AccessKeyID, Password: ts.Creds.SecretAccessKey})); err != nil {
		t.Fatalf("push %s: %v", uri, err)
	}
	return uri
}

// deployImage pushes img and deploys it with optional extra configuration.
func (ts *testServer) deployImage(t *testing.T, name string, img v1.Image, mutate func(*cp.CreateAgentRuntimeInput)) deployed {
	t.Helper()
	in := &cp.CreateAgentRuntimeInput{
		AgentRuntimeName:     aws.String(name),
		AgentRuntimeArtifact: imageArtifact(ts.pushImage(t, img, "e2e/"+name+":v1")),
	}
	if mutate != nil {
		mutate(in)
	}
	return ts.deploy(t, in)
}
