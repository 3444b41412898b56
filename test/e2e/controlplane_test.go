package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
)

// TestControlPlane_Lifecycle walks the main scenario with the real AWS SDK client:
// create from a zip in the built-in store → READY; update → version 2 and DEFAULT moves;
// PROD pinned to 1 stays; GetAgentRuntime?version=1 returns v1's config; delete.
func TestControlPlane_Lifecycle(t *testing.T) {
	ts := startServer(t)
	c := ts.Control()
	ctx := context.Background()
	ts.upload(t, "agents", "hello/v1.zip", agentZip(t, "main.py"))
	ts.upload(t, "agents", "hello/v2.zip", agentZip(t, "main.py"))

	created, err := c.CreateAgentRuntime(ctx, &cp.CreateAgentRuntimeInput{
		AgentRuntimeName:     aws.String("hello_agent"),
		AgentRuntimeArtifact: codeArtifact("agents", "hello/v1.zip"),
		RoleArn:              testRole,
		NetworkConfiguration: testNetwork,
		Description:          aws.String("first"),
		EnvironmentVariables: map[string]string{"GREETING": "v1"},
	})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	id := aws.ToString(created.AgentRuntimeId)
	if !strings.HasPrefix(id, "hello_agent-") || len(id) != len("hello_agent-")+10 {
		t.Errorf("runtime id %q does not look like {name}-{10 alphanumerics}", id)
	}
	if want := "arn:aws:bedrock-agentcore:us-east-1:000000000000:runtime/" + id; aws.ToString(created.AgentRuntimeArn) != want {
		t.Errorf("arn = %s, want %s", aws.ToString(created.AgentRuntimeArn), want)
	}
	if aws.ToString(created.AgentRuntimeVersion) != "1" || created.Status != types.AgentRuntimeStatusCreating {
		t.Errorf("create answered version %s status %s, want 1 CREATING", aws.ToString(created.AgentRuntimeVersion), created.Status)
	}
	if created.WorkloadIdentityDetails == nil || !strings.Contains(aws.ToString(created.WorkloadIdentityDetails.WorkloadIdentityArn), "workload-identity/") {
		t.Errorf("workload identity details missing: %+v", created.WorkloadIdentityDetails)
	}
	got := waitStatus(t, c, id, nil)
	if got.Status != types.AgentRuntimeStatusReady {
		t.Fatalf("status %s (%s), want READY", got.Status, aws.ToString(got.FailureReason))
	}
	if got.LifecycleConfiguration == nil || aws.ToInt32(got.LifecycleConfiguration.IdleRuntimeSessionTimeout) != 900 || aws.ToInt32(got.LifecycleConfiguration.MaxLifetime) != 28800 {
		t.Errorf("lifecycle defaults not reported: %+v", got.LifecycleConfiguration)
	}

	prod, err := c.CreateAgentRuntimeEndpoint(ctx, &cp.CreateAgentRuntimeEndpointInput{
		AgentRuntimeId: aws.String(id), Name: aws.String("PROD"), AgentRuntimeVersion: aws.String("1"),
	})
	if err != nil {
		t.Fatalf("create PROD: %v", err)
	}
	if aws.ToString(prod.TargetVersion) != "1" || prod.Status != types.AgentRuntimeEndpointStatusReady {
		t.Errorf("PROD = target %s status %s, want 1 READY", aws.ToString(prod.TargetVersion), prod.Status)
	}

	upd, err := c.UpdateAgentRuntime(ctx, &cp.UpdateAgentRuntimeInput{
		AgentRuntimeId:       aws.String(id),
		AgentRuntimeArtifact: codeArtifact("agents", "hello/v2.zip"),
		RoleArn:              testRole,
		NetworkConfiguration: testNetwork,
		Description:          aws.String("second"),
		EnvironmentVariables: map[string]string{"GREETING": "v2"},
	})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if aws.ToString(upd.AgentRuntimeVersion) != "2" || upd.Status != types.AgentRuntimeStatusUpdating {
		t.Errorf("update answered version %s status %s, want 2 UPDATING", aws.ToString(upd.AgentRuntimeVersion), upd.Status)
	}
	if got := waitStatus(t, c, id, nil); got.Status != types.AgentRuntimeStatusReady || aws.ToString(got.AgentRuntimeVersion) != "2" {
		t.Fatalf("after update: version %s status %s", aws.ToString(got.AgentRuntimeVersion), got.Status)
	}

	def, err := c.GetAgentRuntimeEndpoint(ctx, &cp.GetAgentRuntimeEndpointInput{AgentRuntimeId: aws.String(id), EndpointName: aws.String("DEFAULT")})
	if err != nil {
		t.Fatalf("get DEFAULT: %v", err)
	}
	if aws.ToString(def.LiveVersion) != "2" || aws.ToString(def.TargetVersion) != "2" || def.Status != types.AgentRuntimeEndpointStatusReady {
		t.Errorf("DEFAULT = live %s target %s %s, want 2/2 READY", aws.ToString(def.LiveVersion), aws.ToString(def.TargetVersion), def.Status)
	}
	if want := "arn:aws:bedrock-agentcore:us-east-1:000000000000:runtime/" + id + "/runtime-endpoint/DEFAULT"; aws.ToString(def.AgentRuntimeEndpointArn) != want {
		t.Errorf("endpoint arn %s, want %s", aws.ToString(def.AgentRuntimeEndpointArn), want)
	}
	prodNow, err := c.GetAgentRuntimeEndpoint(ctx, &cp.GetAgentRuntimeEndpointInput{AgentRuntimeId: aws.String(id), EndpointName: aws.String("PROD")})
	if err != nil {
		t.Fatalf("get PROD: %v", err)
	}
	if aws.ToString(prodNow.LiveVersion) != "1" {
		t.Errorf("PROD moved to %s; pinned endpoints must stay", aws.ToString(prodNow.LiveVersion))
	}

	v1, err := c.GetAgentRuntime(ctx, &cp.GetAgentRuntimeInput{AgentRuntimeId: aws.String(id), AgentRuntimeVersion: aws.String("1")})
	if err != nil {
		t.Fatalf("get version 1: %v", err)
	}
	if v1.EnvironmentVariables["GREETING"] != "v1" || aws.ToString(v1.Description) != "first" || aws.ToString(v1.AgentRuntimeVersion) != "1" {
		t.Errorf("version 1 config = %v %q", v1.EnvironmentVariables, aws.ToString(v1.Description))
	}
	code := v1.AgentRuntimeArtifact.(*types.AgentRuntimeArtifactMemberCodeConfiguration)
	if s3loc := code.Value.Code.(*types.CodeMemberS3); aws.ToString(s3loc.Value.Prefix) != "hello/v1.zip" {
		t.Errorf("version 1 artifact prefix = %s", aws.ToString(s3loc.Value.Prefix))
	}

	// Re-point PROD to 2, then list versions and endpoints.
	moved, err := c.UpdateAgentRuntimeEndpoint(ctx, &cp.UpdateAgentRuntimeEndpointInput{
		AgentRuntimeId: aws.String(id), EndpointName: aws.String("PROD"), AgentRuntimeVersion: aws.String("2"),
	})
	if err != nil {
		t.Fatalf("update PROD: %v", err)
	}
	if aws.ToString(moved.LiveVersion) != "2" || aws.ToString(moved.TargetVersion) != "2" {
		t.Errorf("PROD after update: live %s target %s", aws.ToString(moved.LiveVersion), aws.ToString(moved.TargetVersion))
	}
	var versions []string
	vp := cp.NewListAgentRuntimeVersionsPaginator(c, &cp.ListAgentRuntimeVersionsInput{AgentRuntimeId: aws.String(id), MaxResults: aws.Int32(1)})
	for vp.HasMorePages() {
		page, err := vp.NextPage(ctx)
		if err != nil {
			t.Fatalf("list versions: %v", err)
		}
		for _, v := range page.AgentRuntimes {
			versions = append(versions, aws.ToString(v.AgentRuntimeVersion))
		}
	}
	if fmt.Sprint(versions) != "[2 1]" {
		t.Errorf("versions = %v, want [2 1]", versions)
	}
	var endpoints []string
	ep := cp.NewListAgentRuntimeEndpointsPaginator(c, &cp.ListAgentRuntimeEndpointsInput{AgentRuntimeId: aws.String(id), MaxResults: aws.Int32(1)})
	for ep.HasMorePages() {
		page, err := ep.NextPage(ctx)
		if err != nil {
			t.Fatalf("list endpoints: %v", err)
		}
		for _, e := range page.RuntimeEndpoints {
			endpoints = append(endpoints, aws.ToString(e.Name)+"@"+aws.ToString(e.LiveVersion))
		}
	}
	if fmt.Sprint(endpoints) != "[DEFAULT@2 PROD@2]" {
		t.Errorf("endpoints = %v", endpoints)
	}

	// A single version can go once nothing points at it; the latest cannot.
	_, err = c.DeleteAgentRuntime(ctx, &cp.DeleteAgentRuntimeInput{AgentRuntimeId: aws.String(id), AgentRuntimeVersion: aws.String("2")})
	_ = asType[*types.ConflictException](t, err)
	dv, err := c.DeleteAgentRuntime(ctx, &cp.DeleteAgentRuntimeInput{AgentRuntimeId: aws.String(id), AgentRuntimeVersion: aws.String("1")})
	if err != nil {
		t.Fatalf("delete version 1: %v", err)
	}
	if aws.ToString(dv.AgentRuntimeVersion) != "1" {
		t.Errorf("delete version answered version %q", aws.ToString(dv.AgentRuntimeVersion))
	}
	_, err = c.GetAgentRuntime(ctx, &cp.GetAgentRuntimeInput{AgentRuntimeId: aws.String(id), AgentRuntimeVersion: aws.String("1")})
	_ = asType[*types.ResourceNotFoundException](t, err)

	// DEFAULT cannot be deleted on its own; PROD can; then the runtime goes entirely.
	_, err = c.DeleteAgentRuntimeEndpoint(ctx, &cp.DeleteAgentRuntimeEndpointInput{AgentRuntimeId: aws.String(id), EndpointName: aws.String("DEFAULT")})
	_ = asType[*types.ConflictException](t, err)
	if _, err := c.DeleteAgentRuntimeEndpoint(ctx, &cp.DeleteAgentRuntimeEndpointInput{AgentRuntimeId: aws.String(id), EndpointName: aws.String("PROD")}); err != nil {
		t.Fatalf("delete PROD: %v", err)
	}
	del, err := c.DeleteAgentRuntime(ctx, &cp.DeleteAgentRuntimeInput{AgentRuntimeId: aws.String(id)})
	if err != nil {
		t.Fatalf("delete runtime: %v", err)
	}
	if del.Status != types.AgentRuntimeStatusDeleting || aws.ToString(del.AgentRuntimeId) != id {
		t.Errorf("delete answered %s %s", del.Status, aws.ToString(del.AgentRuntimeId))
	}
	_, err = c.GetAgentRuntime(ctx, &cp.GetAgentRuntimeInput{AgentRuntimeId: aws.String(id)})
	_ = asType[*types.ResourceNotFoundException](t, err)
	_, err = c.GetAgentRuntimeEndpoint(ctx, &cp.GetAgentRuntimeEndpointInput{AgentRuntimeId: aws.String(id), EndpointName: aws.String("DEFAULT")})
	_ = asType[*types.ResourceNotFoundException](t, err)
}

// TestControlPlane_ListRuntimesPaginates drives the SDK paginator across pages.
func TestControlPlane_ListRuntimesPaginates(t *testing.T) {
	ts := startServer(t)
	c := ts.Control()
	ctx := context.Background()
	ts.upload(t, "agents", "a.zip", agentZip(t, "main.py"))
	want := map[string]bool{}
	for i := range 5 {
		out, err := c.CreateAgentRuntime(ctx, &cp.CreateAgentRuntimeInput{
			AgentRuntimeName: aws.String(fmt.Sprintf("agent_%d", i)), AgentRuntimeArtifact: codeArtifact("agents", "a.zip"),
			RoleArn: testRole, NetworkConfiguration: testNetwork,
		})
		if err != nil {
			t.Fatal(err)
		}
		want[aws.ToString(out.AgentRuntimeId)] = true
	}
	p := cp.NewListAgentRuntimesPaginator(c, &cp.ListAgentRuntimesInput{MaxResults: aws.Int32(2)})
	pages := 0
	got := map[string]bool{}
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, r := range page.AgentRuntimes {
			if got[aws.ToString(r.AgentRuntimeId)] {
				t.Errorf("runtime %s listed twice", aws.ToString(r.AgentRuntimeId))
			}
			got[aws.ToString(r.AgentRuntimeId)] = true
		}
	}
	if pages != 3 || len(got) != 5 {
		t.Errorf("listed %d runtimes over %d pages, want 5 over 3", len(got), pages)
	}
	for id := range want {
		if !got[id] {
			t.Errorf("runtime %s missing from the list", id)
		}
	}
	_, err := c.ListAgentRuntimes(ctx, &cp.ListAgentRuntimesInput{NextToken: aws.String("garbage")})
	_ = asType[*types.ValidationException](t, err)
	_, err = c.ListAgentRuntimes(ctx, &cp.ListAgentRuntimesInput{MaxResults: aws.Int32(101)})
	_ = asType[*types.ValidationException](t, err)
}
