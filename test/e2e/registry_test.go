package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func imageArtifact(uri string) *types.AgentRuntimeArtifactMemberContainerConfiguration {
	return &types.AgentRuntimeArtifactMemberContainerConfiguration{Value: types.ContainerConfiguration{ContainerUri: aws.String(uri)}}
}

// TestRegistry_PushedImageIsUsable pushes an image to the built-in /v2/ registry with
// go-containerregistry (HTTP basic auth with the access key) and uses it as containerUri.
func TestRegistry_PushedImageIsUsable(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()

	resp, err := http.Get(ts.URL + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic") {
		t.Errorf("anonymous /v2/ = %d %q, want 401 with a Basic challenge", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}

	img, err := random.Image(1024, 2)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(ts.Addr+"/team/agent:v1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	basic := &authn.Basic{Username: ts.Creds.AccessKeyID, Password: ts.Creds.SecretAccessKey}
	if err := remote.Write(ref, img, remote.WithAuth(basic), remote.WithContext(ctx)); err != nil {
		t.Fatalf("push: %v", err)
	}
	if err := remote.Write(ref, img, remote.WithAuth(&authn.Basic{Username: ts.Creds.AccessKeyID, Password: "wrong"})); err == nil {
		t.Error("push with a wrong secret succeeded")
	}

	c := ts.Control()
	for _, tc := range []struct {
		name, uri string
		want      types.AgentRuntimeStatus
	}{
		{"from_tag", ts.Addr + "/team/agent:v1", types.AgentRuntimeStatusReady},
		{"missing_tag", ts.Addr + "/team/agent:nope", types.AgentRuntimeStatusCreateFailed},
		{"missing_repo", ts.Addr + "/nobody/here:latest", types.AgentRuntimeStatusCreateFailed},
	} {
		out, err := c.CreateAgentRuntime(ctx, &cp.CreateAgentRuntimeInput{
			AgentRuntimeName: aws.String(tc.name), AgentRuntimeArtifact: imageArtifact(tc.uri),
			RoleArn: testRole, NetworkConfiguration: testNetwork,
		})
		if err != nil {
			t.Fatalf("%s: create: %v", tc.name, err)
		}
		got := waitStatus(t, c, aws.ToString(out.AgentRuntimeId), nil)
		if got.Status != tc.want {
			t.Errorf("%s: status %s (%s), want %s", tc.name, got.Status, aws.ToString(got.FailureReason), tc.want)
		}
		if tc.want != types.AgentRuntimeStatusReady && aws.ToString(got.FailureReason) == "" {
			t.Errorf("%s: failed without a failureReason", tc.name)
		}
	}
}
