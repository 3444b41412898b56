package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/a2aproject/a2a-go/a2a"
	"github.com/a2aproject/a2a-go/a2aclient"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dtypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"berth.dev/berth/test/testagent"
)

// TestExamples deploys every agent in examples/ to one real server with `berth deploy`
// (images pushed to the built-in registry with go-containerregistry first) and checks its
// answers through the real clients of its protocol: the AWS SDK, a WebSocket client, the
// MCP and A2A SDKs.
func TestExamples(t *testing.T) {
	ts := startServer(t)
	for _, ex := range []struct {
		name string
		test func(*testing.T, *testServer)
	}{
		{"hello-python", exampleHelloPython},
		{"hello-node", exampleHelloNode},
		{"streaming-python", exampleStreamingPython},
		{"long-task-python", exampleLongTaskPython},
		{"websocket-chat-python", exampleWebSocketChat},
		{"openai-python", exampleOpenAIPython},
		{"mcp-server-go", exampleMCPServer},
		{"a2a-agent-go", exampleA2AAgent},
		{"go-image", exampleGoImage},
	} {
		t.Run(ex.name, func(t *testing.T) {
			t.Parallel() // most of each is waiting: for sandboxes, agents, builds
			ex.test(t, ts)
		})
	}
}

// exampleHelloPython: the README's first agent deploys as it is, straight from its directory.
func exampleHelloPython(t *testing.T, ts *testServer) {
	rt := ts.cliDeploy(t, "ex_hello_python", "--dir", examplesDir+"/hello-python", "--env", "GREETING=Ahoy")
	s := sid("ex-hello-python")
	got, _ := invokeJSON(t, ts.Data(), rt.ARN, s, `{"prompt":"Berth"}`)
	want := map[string]any{"result": "Ahoy, Berth!", "session": s}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answer (-want +got):\n%s", diff)
	}
}

// exampleHelloNode: a Node.js code zip with no npm dependencies; its per-process counter
// shows the session's calls share one sandbox and another session gets its own.
func exampleHelloNode(t *testing.T, ts *testServer) {
	if driverName() == "microvm" {
		t.Skip("the microvm driver's base root filesystem for code zips has no Node.js (internal/sandbox/microvm/doc.go); Node agents run there as images")
	}
	rt := ts.cliDeploy(t, "ex_hello_node", "--dir", examplesDir+"/hello-node", "--runtime", "NODE_22", "--entrypoint", "main.js")
	c := ts.Data()
	s := sid("ex-hello-node")
	for i := 1; i <= 2; i++ {
		got, _ := invokeJSON(t, c, rt.ARN, s, `{"prompt":"Node"}`)
		if got["result"] != "Hello, Node!" || got["calls"] != float64(i) || got["session"] != s || !strings.HasPrefix(fmt.Sprint(got["node"]), "v") {
			t.Errorf("call %d answered %v, want Hello, Node! as call %d of session %s", i, got, i, s)
		}
	}
	if got, _ := invokeJSON(t, c, rt.ARN, sid("ex-hello-node-2"), `{}`); got["result"] != "Hello, world!" || got["calls"] != float64(1) {
		t.Errorf("another session answered %v, want its first call", got)
	}
}

// exampleStreamingPython: a generator handler (the Python SDK vendored into the zip) reaches
// the caller as Server-Sent Events, one per yielded value, in order.
func exampleStreamingPython(t *testing.T, ts *testServer) {
	rt := ts.cliDeploy(t, "ex_streaming_python", "--dir", stagePythonExample(t, "streaming-python"))
	s := sid("ex-streaming")
	events, contentType := invokeSSE(t, ts.Data(), rt.ARN, s, `{"prompt":"ships stream tokens","delay_ms":20}`)
	if !strings.HasPrefix(contentType, "text/event-stream") {
		t.Errorf("content type %q, want text/event-stream", contentType)
	}
	want := []map[string]any{
		{"type": "start", "words": 3.0, "session": s},
		{"type": "token", "index": 0.0, "text": "SHIPS"},
		{"type": "token", "index": 1.0, "text": "STREAM"},
		{"type": "token", "index": 2.0, "text": "TOKENS"},
		{"type": "end", "text": "SHIPS STREAM TOKENS"},
	}
	if diff := cmp.Diff(want, events); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// exampleLongTaskPython: an invocation starts a background job and returns; while the job
// runs the agent's /ping says HealthyBusy, so Berth keeps the session active with no request
// in flight; the client polls the same session for the result, and once the job is done the
// session goes idle.
func exampleLongTaskPython(t *testing.T, ts *testServer) {
	rt := ts.cliDeploy(t, "ex_long_task_python", "--dir", stagePythonExample(t, "long-task-python"))
	c := ts.Data()
	s := sid("ex-long-task")
	started, _ := invokeJSON(t, c, rt.ARN, s, `{"action":"start","steps":4,"step_seconds":0.75}`)
	if started["status"] != "started" || started["job"] != "1" {
		t.Fatalf("start answered %v", started)
	}
	// The job takes at least 3 s. For 1.5 s (several of the server's 200 ms pings) nothing
	// calls the agent; an agent answering Healthy would turn the session idle at the first.
	for range 6 {
		time.Sleep(250 * time.Millisecond)
		if state := ts.sessionState(t, s); state != "active" {
			t.Fatalf("session %s is %q while its job runs, want active (the agent reports HealthyBusy)", s, state)
		}
	}
	var status map[string]any
	for deadline := time.Now().Add(30 * time.Second); ; {
		status, _ = invokeJSON(t, c, rt.ARN, s, `{"action":"status"}`)
		if status["status"] == "done" {
			break
		}
		if status["status"] != "running" || status["ping"] != "HealthyBusy" || time.Now().After(deadline) {
			t.Fatalf("status answered %v, want running and HealthyBusy until done", status)
		}
		time.Sleep(250 * time.Millisecond)
	}
	want := map[string]any{
		"job": "1", "status": "done", "done_steps": 4.0, "steps": 4.0, "ping": "Healthy",
		"result": map[string]any{"steps": 4.0, "sum_of_squares": 30.0},
	}
	if diff := cmp.Diff(want, status); diff != "" {
		t.Errorf("final status (-want +got):\n%s", diff)
	}
	eventually(t, "the session to go idle once the job is done", func() bool { return ts.sessionState(t, s) == "idle" })
	if got, _ := invokeJSON(t, c, rt.ARN, sid("ex-long-task-other"), `{"action":"start","steps":1,"step_seconds":0}`); got["job"] != "1" {
		t.Errorf("a new session's first job is %v, want job 1 (jobs belong to their session)", got["job"])
	}
}

// chatFrame is one frame the chat agent sends.
type chatFrame struct {
	Type    string `json:"type"`
	Session string `json:"session"`
	Turns   int    `json:"turns"`
	Text    string `json:"text"`
	Turn    int    `json:"turn"`
	Reply   string `json:"reply"`
}

// exampleWebSocketChat: a real WebSocket client, through Berth's /ws route with SigV4
// headers, chats with the Python SDK's @app.websocket handler; the reply arrives word by
// word; a second connection with the same session id finds the conversation, and so does an
// HTTP invocation.
func exampleWebSocketChat(t *testing.T, ts *testServer) {
	rt := ts.cliDeploy(t, "ex_websocket_chat", "--dir", stagePythonExample(t, "websocket-chat-python"))
	s := sid("ex-ws-chat")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute+sessionStartWait())
	defer cancel()
	connect := func() *websocket.Conn {
		u := ts.wsURL(rt.ARN, "")
		conn, _ := mustDialWS(t, toWS(u), signedWSHeader(t, u, ts.Creds, s))
		var hello chatFrame
		if err := wsjson.Read(ctx, conn, &hello); err != nil {
			t.Fatalf("read hello: %v", err)
		}
		if hello.Type != "hello" || hello.Session != s {
			t.Fatalf("first frame %+v, want hello for session %s", hello, s)
		}
		return conn
	}
	say := func(conn *websocket.Conn, msg string) chatFrame {
		if err := conn.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
			t.Fatalf("send %q: %v", msg, err)
		}
		var words []string
		for {
			var f chatFrame
			if err := wsjson.Read(ctx, conn, &f); err != nil {
				t.Fatalf("read reply to %q: %v", msg, err)
			}
			switch f.Type {
			case "token":
				words = append(words, f.Text)
			case "done":
				if got := strings.Join(words, " "); got != f.Reply {
					t.Errorf("tokens %q do not add up to the reply %q", got, f.Reply)
				}
				return f
			default:
				t.Fatalf("unexpected frame %+v", f)
			}
		}
	}

	conn := connect()
	if f := say(conn, "hello there"); f.Turn != 1 || f.Reply != `You said 'hello there' (2 words); that is message 1 in this session.` {
		t.Errorf("first reply %+v", f)
	}
	if f := say(conn, "again"); f.Turn != 2 || !strings.HasSuffix(f.Reply, "(1 word); that is message 2 in this session.") {
		t.Errorf("second reply %+v", f)
	}
	if err := conn.Write(ctx, websocket.MessageText, []byte("/bye")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := conn.Read(ctx); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Errorf("after /bye the read ended with %v, want a normal close from the agent", err)
	}

	conn = connect() // same session id: same sandbox, same conversation
	if f := say(conn, "still there?"); f.Turn != 3 {
		t.Errorf("reply after reconnecting %+v, want turn 3", f)
	}
	_ = conn.Close(websocket.StatusNormalClosure, "")

	got, _ := invokeJSON(t, ts.Data(), rt.ARN, s, `{}`)
	if got["turns"] != 3.0 || got["session"] != s {
		t.Errorf("HTTP invocation in the chat's session answered %v, want its 3 turns", got)
	}
}

// exampleOpenAIPython: the agent calls an OpenAI-compatible API whose base URL, key and
// model come from the runtime's environment. The fake model runs on an "internet host" the
// sandbox reaches through its ordinary PUBLIC egress; the agent keeps the conversation and
// relays streamed tokens as SSE.
func exampleOpenAIPython(t *testing.T, ts *testServer) {
	if sandboxDriver(t) == "process" {
		t.Skip("the process sandbox driver has no network egress, so the agent cannot reach a model")
	}
	model := &fakeModel{key: "sk-test-0123456789"}
	base := serveOnInternet(t, model) + "/v1"
	rt := ts.cliDeploy(t, "ex_openai_python", "--dir", stagePythonExample(t, "openai-python"),
		"--env", "OPENAI_BASE_URL="+base, "--env", "OPENAI_API_KEY="+model.key, "--env", "OPENAI_MODEL=fake-model-1")
	c := ts.Data()
	s := sid("ex-openai")

	got, _ := invokeJSON(t, c, rt.ARN, s, `{"prompt":"What is Berth?"}`)
	if got["answer"] != fakeAnswer("What is Berth?", 1) || got["model"] != "fake-model-1" || got["turn"] != 1.0 {
		t.Errorf("first answer %v", got)
	}
	events, contentType := invokeSSE(t, c, rt.ARN, s, `{"prompt":"And streaming?","stream":true}`)
	if !strings.HasPrefix(contentType, "text/event-stream") || len(events) < 2 {
		t.Fatalf("streamed answer: %q, %v", contentType, events)
	}
	var tokens strings.Builder
	for _, ev := range events[:len(events)-1] {
		if ev["type"] != "token" {
			t.Fatalf("event %v, want tokens before the end", ev)
		}
		fmt.Fprint(&tokens, ev["text"])
	}
	wantAnswer := fakeAnswer("And streaming?", 2)
	if end := events[len(events)-1]; tokens.String() != wantAnswer || end["type"] != "end" || end["answer"] != wantAnswer || end["turn"] != 2.0 {
		t.Errorf("streamed tokens %q and end event %v, want %q as turn 2", tokens.String(), end, wantAnswer)
	}
	if got, _ := invokeJSON(t, c, rt.ARN, sid("ex-openai-other"), `{"prompt":"Hi"}`); got["turn"] != 1.0 {
		t.Errorf("another session's first answer %v, want turn 1 (a conversation per session)", got)
	}

	reqs := model.requests()
	if len(reqs) != 3 {
		t.Fatalf("the model received %d requests, want 3: %+v", len(reqs), reqs)
	}
	for i, r := range reqs {
		if r.Authorization != "Bearer "+model.key || r.Model != "fake-model-1" || r.Stream != (i == 1) {
			t.Errorf("request %d: %+v", i, r)
		}
	}
	var roles []string
	for _, m := range reqs[1].Messages {
		roles = append(roles, m.Role)
	}
	if want := []string{"system", "user", "assistant", "user"}; !slices.Equal(roles, want) {
		t.Errorf("second request's messages %v, want %v (the conversation so far)", roles, want)
	}
}

// exampleMCPServer: the official MCP Go SDK's server, deployed as an MCP runtime, and the
// same SDK's client pointed at the invocations URL; each client gets its own sandbox, so
// its own notes.
func exampleMCPServer(t *testing.T, ts *testServer) {
	img := testagent.ImageOf(t, testagent.Build(t, "berth.dev/berth/examples/mcp-server-go"))
	rt := ts.cliDeploy(t, "ex_mcp_server", "--image", ts.pushImage(t, img, "examples/mcp-server-go:1"), "--protocol", "MCP")
	a, _ := ts.connectMCP(t, rt.ARN, nil)
	defer func() { _ = a.Close() }()
	tools, err := a.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatalf("list tools: %v", err)
	}
	var names []string
	for _, tool := range tools.Tools {
		names = append(names, tool.Name)
	}
	slices.Sort(names)
	if want := []string{"add", "recall", "remember"}; !slices.Equal(names, want) {
		t.Errorf("tools %v, want %v", names, want)
	}
	var sum struct{ Sum float64 }
	mcpTool(t, a, "add", map[string]any{"a": 2, "b": 3.5}, &sum)
	if sum.Sum != 5.5 {
		t.Errorf("add(2, 3.5) = %v", sum.Sum)
	}
	for i, note := range []string{"buy milk", "call home"} {
		var n struct{ Count int }
		mcpTool(t, a, "remember", map[string]any{"note": note}, &n)
		if n.Count != i+1 {
			t.Errorf("remember %q: count %d, want %d", note, n.Count, i+1)
		}
	}
	var notes struct{ Notes []string }
	mcpTool(t, a, "recall", map[string]any{}, &notes)
	if want := []string{"buy milk", "call home"}; !slices.Equal(notes.Notes, want) {
		t.Errorf("recall = %v, want %v", notes.Notes, want)
	}

	b, _ := ts.connectMCP(t, rt.ARN, nil)
	defer func() { _ = b.Close() }()
	notes.Notes = nil
	mcpTool(t, b, "recall", map[string]any{}, &notes)
	if len(notes.Notes) != 0 {
		t.Errorf("a second client recalls %v, want nothing (its own session)", notes.Notes)
	}
}

// mcpTool calls a tool and decodes its structured result into out.
func mcpTool(t *testing.T, cs *mcp.ClientSession, tool string, args map[string]any, out any) {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("call %s: %v", tool, err)
	}
	if res.IsError {
		t.Fatalf("call %s: tool error %+v", tool, res.Content)
	}
	raw, err := json.Marshal(res.StructuredContent)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("call %s: result %s: %v", tool, raw, err)
	}
}

// exampleA2AAgent: the a2a-go agent, deployed as an A2A runtime; an a2a-go client built
// from the card GetAgentCard returns runs tasks through Berth, blocking and streamed, and
// finds them again with tasks/get in the same session only.
func exampleA2AAgent(t *testing.T, ts *testServer) {
	img := testagent.ImageOf(t, testagent.Build(t, "berth.dev/berth/examples/a2a-agent-go"))
	rt := ts.cliDeploy(t, "ex_a2a_agent", "--image", ts.pushImage(t, img, "examples/a2a-agent-go:1"), "--protocol", "A2A")
	ctx := context.Background()
	s := sid("ex-a2a")
	card, _ := getCard(t, ts.Data(), &bedrockagentcore.GetAgentCardInput{AgentRuntimeArn: aws.String(rt.ARN), RuntimeSessionId: aws.String(s)})
	if card.Name != "word-stats" || card.URL != ts.invocationURL(rt.ARN) || len(card.Skills) != 1 {
		t.Errorf("card %+v, want word-stats at %s", card, ts.invocationURL(rt.ARN))
	}
	client, err := a2aclient.NewFromCard(ctx, &card, a2aclient.WithJSONRPCTransport(ts.sessionClient(s)))
	if err != nil {
		t.Fatalf("a2a client from card: %v", err)
	}
	defer func() { _ = client.Destroy() }()

	res, err := client.SendMessage(ctx, &a2a.MessageSendParams{Message: a2a.NewMessage(a2a.MessageRoleUser, a2a.TextPart{Text: "How long is this sentence?"})})
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	task, ok := res.(*a2a.Task)
	if !ok {
		t.Fatalf("send answered %T, want a task", res)
	}
	want := map[string]any{"words": 5.0, "characters": 26.0, "longest": "sentence?", "tasksInSession": 1.0}
	if task.Status.State != a2a.TaskStateCompleted || len(task.Artifacts) != 1 {
		t.Fatalf("task %+v, want completed with one artifact", task)
	}
	if diff := cmp.Diff(want, statsData(t, task.Artifacts[0])); diff != "" {
		t.Errorf("artifact data (-want +got):\n%s", diff)
	}

	var states []a2a.TaskState
	var streamed map[string]any
	for ev, err := range client.SendStreamingMessage(ctx, &a2a.MessageSendParams{Message: a2a.NewMessage(a2a.MessageRoleUser, a2a.TextPart{Text: "a bb ccc"})}) {
		if err != nil {
			t.Fatalf("stream: %v", err)
		}
		switch ev := ev.(type) {
		case *a2a.Task:
			states = append(states, ev.Status.State)
		case *a2a.TaskStatusUpdateEvent:
			states = append(states, ev.Status.State)
		case *a2a.TaskArtifactUpdateEvent:
			streamed = statsData(t, ev.Artifact)
		default:
			t.Fatalf("stream event %T", ev)
		}
	}
	if len(states) == 0 || states[len(states)-1] != a2a.TaskStateCompleted || !slices.Contains(states, a2a.TaskStateWorking) {
		t.Errorf("streamed states %v, want working … completed", states)
	}
	if diff := cmp.Diff(map[string]any{"words": 3.0, "characters": 8.0, "longest": "ccc", "tasksInSession": 2.0}, streamed); diff != "" {
		t.Errorf("streamed artifact data (-want +got):\n%s", diff)
	}

	got, err := client.GetTask(ctx, &a2a.TaskQueryParams{ID: task.ID})
	if err != nil || got.Status.State != a2a.TaskStateCompleted {
		t.Errorf("tasks/get %s in its session: %+v, %v", task.ID, got, err)
	}
	other, err := a2aclient.NewFromCard(ctx, &card, a2aclient.WithJSONRPCTransport(ts.sessionClient(sid("ex-a2a-other"))))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = other.Destroy() }()
	if got, err := other.GetTask(ctx, &a2a.TaskQueryParams{ID: task.ID}); err == nil {
		t.Errorf("tasks/get %s from another session found %+v, want an error (another sandbox)", task.ID, got)
	}
}

// statsData returns the data part of a word-stats artifact.
func statsData(t *testing.T, art *a2a.Artifact) map[string]any {
	t.Helper()
	if art.Name != "word-stats" {
		t.Errorf("artifact named %q, want word-stats", art.Name)
	}
	for _, p := range art.Parts {
		if dp, ok := p.(a2a.DataPart); ok {
			return dp.Data
		}
	}
	t.Fatalf("artifact %+v has no data part", art)
	return nil
}

// exampleGoImage: a Go agent built here (CGO disabled) into a single-layer OCI image,
// pushed to Berth's registry and deployed with `berth deploy --image`; it answers JSON and
// streams, reading GREETING from the image's environment.
func exampleGoImage(t *testing.T, ts *testServer) {
	img := testagent.ImageOf(t, testagent.Build(t, "berth.dev/berth/examples/go-image"), "GREETING=Ahoy")
	uri := ts.pushImage(t, img, "examples/go-image:1")
	rt := ts.cliDeploy(t, "ex_go_image", "--image", uri)
	c := ts.Data()
	s := sid("ex-go-image")
	for i := 1; i <= 2; i++ {
		got, _ := invokeJSON(t, c, rt.ARN, s, `{"prompt":"Berth"}`)
		if got["result"] != "Ahoy, Berth!" || got["calls"] != float64(i) || got["session"] != s || !strings.HasPrefix(fmt.Sprint(got["go"]), "go") {
			t.Errorf("call %d answered %v", i, got)
		}
	}
	events, contentType := invokeSSE(t, c, rt.ARN, s, `{"prompt":"stream","count":3}`)
	want := []map[string]any{
		{"i": 1.0, "of": 3.0, "text": "Ahoy, stream! (1/3)"},
		{"i": 2.0, "of": 3.0, "text": "Ahoy, stream! (2/3)"},
		{"i": 3.0, "of": 3.0, "text": "Ahoy, stream! (3/3)"},
	}
	if diff := cmp.Diff(want, events); diff != "" || !strings.HasPrefix(contentType, "text/event-stream") {
		t.Errorf("streamed %q (-want +got):\n%s", contentType, diff)
	}
	_, err := c.InvokeAgentRuntime(context.Background(), &bedrockagentcore.InvokeAgentRuntimeInput{
		AgentRuntimeArn: aws.String(rt.ARN), RuntimeSessionId: aws.String(s), Payload: []byte(`{"count":-1}`),
	})
	if e := asType[*dtypes.RuntimeClientError](t, err); !strings.Contains(e.ErrorMessage(), "HTTP 400") || !strings.Contains(e.ErrorMessage(), "count must be between 0 and 1000") {
		t.Errorf("a bad payload: %q, want the agent's 400 and its message", e.ErrorMessage())
	}
}

// invokeSSE invokes asking for an event stream and returns the JSON of every data: line,
// and the content type.
func invokeSSE(t *testing.T, c *bedrockagentcore.Client, arn, session, payload string) ([]map[string]any, string) {
	t.Helper()
	out, err := c.InvokeAgentRuntime(context.Background(), &bedrockagentcore.InvokeAgentRuntimeInput{
		AgentRuntimeArn: aws.String(arn), RuntimeSessionId: aws.String(session),
		ContentType: aws.String("application/json"), Accept: aws.String("text/event-stream"),
		Payload: []byte(payload),
	})
	if err != nil {
		t.Fatalf("invoke %s: %v", payload, err)
	}
	defer func() { _ = out.Response.Close() }()
	return readSSE(t, out.Response), aws.ToString(out.ContentType)
}

// readSSE decodes the JSON of every data: line of an event stream.
func readSSE(t *testing.T, r io.Reader) []map[string]any {
	t.Helper()
	var events []map[string]any
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var ev map[string]any
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			t.Fatalf("event %q: %v", data, err)
		}
		events = append(events, ev)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read events: %v", err)
	}
	return events
}
