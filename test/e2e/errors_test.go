package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
)

// TestControlPlane_TypedErrors checks that the SDK surfaces typed errors for bad input.
func TestControlPlane_TypedErrors(t *testing.T) {
	ts := startServer(t)
	c := ts.Control()
	ctx := context.Background()
	ts.upload(t, "agents", "a.zip", agentZip(t, "main.py"))

	// Several violations at once are all reported in fieldList.
	_, err := c.CreateAgentRuntime(ctx, &cp.CreateAgentRuntimeInput{
		AgentRuntimeName:     aws.String("bad-name-with-hyphens"),
		AgentRuntimeArtifact: codeArtifact("agents", "a.zip"),
		RoleArn:              aws.String("not-an-arn"),
		NetworkConfiguration: testNetwork,
		LifecycleConfiguration: &types.LifecycleConfiguration{
			IdleRuntimeSessionTimeout: aws.Int32(10),
		},
	})
	ve := asType[*types.ValidationException](t, err)
	if ve.Reason != types.ValidationExceptionReasonFieldValidationFailed {
		t.Errorf("reason = %s", ve.Reason)
	}
	names := map[string]bool{}
	for _, f := range ve.FieldList {
		names[aws.ToString(f.Name)] = true
	}
	for _, want := range []string{"agentRuntimeName", "roleArn", "lifecycleConfiguration.idleRuntimeSessionTimeout"} {
		if !names[want] {
			t.Errorf("fieldList lacks %s: %v", want, names)
		}
	}

	ok := &cp.CreateAgentRuntimeInput{
		AgentRuntimeName: aws.String("dup"), AgentRuntimeArtifact: codeArtifact("agents", "a.zip"),
		RoleArn: testRole, NetworkConfiguration: testNetwork,
	}
	first, err := c.CreateAgentRuntime(ctx, ok)
	if err != nil {
		t.Fatal(err)
	}
	// A fresh input: the SDK stored its generated clientToken in ok, so reusing ok would be
	// an idempotent replay (and answered as one).
	again := *ok
	again.ClientToken = nil
	_, err = c.CreateAgentRuntime(ctx, &again)
	_ = asType[*types.ConflictException](t, err)

	_, err = c.GetAgentRuntime(ctx, &cp.GetAgentRuntimeInput{AgentRuntimeId: aws.String("nosuch-0123456789")})
	_ = asType[*types.ResourceNotFoundException](t, err)
	_, err = c.GetAgentRuntime(ctx, &cp.GetAgentRuntimeInput{AgentRuntimeId: first.AgentRuntimeId, AgentRuntimeVersion: aws.String("7")})
	_ = asType[*types.ResourceNotFoundException](t, err)
	_, err = c.GetAgentRuntime(ctx, &cp.GetAgentRuntimeInput{AgentRuntimeId: aws.String("not an id")})
	_ = asType[*types.ValidationException](t, err)
	_, err = c.CreateAgentRuntimeEndpoint(ctx, &cp.CreateAgentRuntimeEndpointInput{
		AgentRuntimeId: first.AgentRuntimeId, Name: aws.String("PROD"), AgentRuntimeVersion: aws.String("9"),
	})
	_ = asType[*types.ResourceNotFoundException](t, err)
	_, err = c.DeleteAgentRuntimeEndpoint(ctx, &cp.DeleteAgentRuntimeEndpointInput{AgentRuntimeId: first.AgentRuntimeId, EndpointName: aws.String("NOPE")})
	_ = asType[*types.ResourceNotFoundException](t, err)

	// An update while the first version is still preparing, or right after, is either
	// accepted (READY already) or a ConflictException — never anything else.
	_, err = c.UpdateAgentRuntime(ctx, &cp.UpdateAgentRuntimeInput{
		AgentRuntimeId: first.AgentRuntimeId, AgentRuntimeArtifact: codeArtifact("agents", "a.zip"),
		RoleArn: testRole, NetworkConfiguration: testNetwork,
	})
	if err != nil {
		_ = asType[*types.ConflictException](t, err)
	}
}

// TestControlPlane_Idempotency: same clientToken + same input replays the first answer;
// different input is a ValidationException with reason IdempotentParameterMismatchException.
func TestControlPlane_Idempotency(t *testing.T) {
	ts := startServer(t)
	c := ts.Control()
	ctx := context.Background()
	ts.upload(t, "agents", "a.zip", agentZip(t, "main.py"))
	token := "idem-token-0123456789-0123456789-abcdef"
	in := &cp.CreateAgentRuntimeInput{
		AgentRuntimeName: aws.String("idem"), AgentRuntimeArtifact: codeArtifact("agents", "a.zip"),
		RoleArn: testRole, NetworkConfiguration: testNetwork, ClientToken: aws.String(token),
	}
	a, err := c.CreateAgentRuntime(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.CreateAgentRuntime(ctx, in)
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	if aws.ToString(a.AgentRuntimeId) != aws.ToString(b.AgentRuntimeId) || !a.CreatedAt.Equal(aws.ToTime(b.CreatedAt)) || a.Status != b.Status {
		t.Errorf("replay answered %s/%v/%s, first %s/%v/%s", aws.ToString(b.AgentRuntimeId), b.CreatedAt, b.Status,
			aws.ToString(a.AgentRuntimeId), a.CreatedAt, a.Status)
	}
	in.Description = aws.String("different")
	_, err = c.CreateAgentRuntime(ctx, in)
	ve := asType[*types.ValidationException](t, err)
	if ve.Reason != types.ValidationExceptionReasonIdempotentParameterMismatchException {
		t.Errorf("reason = %s", ve.Reason)
	}
	list, err := c.ListAgentRuntimes(ctx, &cp.ListAgentRuntimesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.AgentRuntimes) != 1 {
		t.Errorf("%d runtimes exist after replays, want 1", len(list.AgentRuntimes))
	}
}

// TestControlPlane_MissingArtifactFails: a zip that does not exist → CREATE_FAILED with a
// reason, and nothing half-written (DEFAULT exists, not live).
func TestControlPlane_MissingArtifactFails(t *testing.T) {
	ts := startServer(t)
	c := ts.Control()
	ctx := context.Background()
	ts.upload(t, "agents", "other.zip", agentZip(t, "main.py"))
	ts.upload(t, "agents", "noentry.zip", agentZip(t, "app.py"))
	for _, tc := range []struct{ name, key, reason string }{
		{"missing", "does/not/exist.zip", "not found"},
		{"no_entry", "noentry.zip", "main.py"},
	} {
		out, err := c.CreateAgentRuntime(ctx, &cp.CreateAgentRuntimeInput{
			AgentRuntimeName: aws.String(tc.name), AgentRuntimeArtifact: codeArtifact("agents", tc.key),
			RoleArn: testRole, NetworkConfiguration: testNetwork,
		})
		if err != nil {
			t.Fatal(err)
		}
		got := waitStatus(t, c, aws.ToString(out.AgentRuntimeId), nil)
		if got.Status != types.AgentRuntimeStatusCreateFailed || !strings.Contains(aws.ToString(got.FailureReason), tc.reason) {
			t.Errorf("%s: status %s reason %q, want CREATE_FAILED mentioning %q", tc.name, got.Status, aws.ToString(got.FailureReason), tc.reason)
		}
		def, err := c.GetAgentRuntimeEndpoint(ctx, &cp.GetAgentRuntimeEndpointInput{AgentRuntimeId: out.AgentRuntimeId, EndpointName: aws.String("DEFAULT")})
		if err != nil {
			t.Fatal(err)
		}
		if def.Status != types.AgentRuntimeEndpointStatusCreateFailed || def.LiveVersion != nil {
			t.Errorf("%s: DEFAULT is %s live %v, want CREATE_FAILED with no live version", tc.name, def.Status, aws.ToString(def.LiveVersion))
		}
	}
}
