package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/a2aproject/a2a-go/a2a"
	"github.com/a2aproject/a2a-go/a2aclient"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dtypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	"github.com/coder/websocket"

	"berth.dev/berth/test/testagent"
)

// a2aAgentPackage is the A2A test agent, built with a2a-go.
const a2aAgentPackage = "berth.dev/berth/test/a2aagent"

// withProtocol sets the runtime's server protocol.
func withProtocol(p types.ServerProtocol) func(*cp.CreateAgentRuntimeInput) {
	return func(in *cp.CreateAgentRuntimeInput) {
		in.ProtocolConfiguration = &types.ProtocolConfiguration{ServerProtocol: p}
	}
}

// invocationURL is Berth's public invocation URL of a runtime, with the ARN encoded as AWS
// SDKs encode HTTP labels (runtime ARNs hold only letters, digits, "-", "_", ":" and "/").
func (ts *testServer) invocationURL(arn string) string {
	return ts.URL + "/runtimes/" + strings.NewReplacer(":", "%3A", "/", "%2F").Replace(arn) + "/invocations/"
}

// sessionTransport adds the runtime session header to every request, so a protocol client
// stays on one session the way an AgentCore caller would.
type sessionTransport struct {
	session string
	base    http.RoundTripper
}

func (s sessionTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("X-Amzn-Bedrock-AgentCore-Runtime-Session-Id", s.session)
	return s.base.RoundTrip(req)
}

// sessionClient is a SigV4-signing HTTP client pinned to one runtime session.
func (ts *testServer) sessionClient(session string) *http.Client {
	return &http.Client{Transport: sessionTransport{session: session, base: ts.signingClient().Transport}}
}

// getCard fetches an agent card through the AWS SDK and decodes it.
func getCard(t *testing.T, c *bedrockagentcore.Client, in *bedrockagentcore.GetAgentCardInput) (a2a.AgentCard, map[string]any) {
	t.Helper()
	out, err := c.GetAgentCard(context.Background(), in)
	if err != nil {
		t.Fatalf("GetAgentCard: %v", err)
	}
	if in.RuntimeSessionId != nil && aws.ToString(out.RuntimeSessionId) != aws.ToString(in.RuntimeSessionId) {
		t.Errorf("session header echoed %q, want %q", aws.ToString(out.RuntimeSessionId), aws.ToString(in.RuntimeSessionId))
	}
	var doc map[string]any
	if err := out.AgentCard.UnmarshalSmithyDocument(&doc); err != nil {
		t.Fatalf("decode agent card document: %v", err)
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var card a2a.AgentCard
	if err := json.Unmarshal(raw, &card); err != nil {
		t.Fatalf("agent card %s: %v", raw, err)
	}
	return card, doc
}

// echoReply is what the A2A test agent answered.
type echoReply struct {
	Text  string
	Count int
	PID   int
	Inst  string // the agent process's random instance name
}

func decodeEcho(t *testing.T, msg *a2a.Message) echoReply {
	t.Helper()
	if msg.Role != a2a.MessageRoleAgent || len(msg.Parts) != 1 {
		t.Fatalf("reply %+v: want one part from the agent", msg)
	}
	part, ok := msg.Parts[0].(a2a.TextPart)
	if !ok {
		t.Fatalf("reply part %T, want text", msg.Parts[0])
	}
	count, _ := msg.Metadata["count"].(float64)
	pid, _ := msg.Metadata["pid"].(float64)
	inst, _ := msg.Metadata["instance"].(string)
	return echoReply{Text: part.Text, Count: int(count), PID: int(pid), Inst: inst}
}

// send sends one text message and returns the agent's reply message.
func send(t *testing.T, c *a2aclient.Client, text string) echoReply {
	t.Helper()
	res, err := c.SendMessage(context.Background(), &a2a.MessageSendParams{Message: a2a.NewMessage(a2a.MessageRoleUser, a2a.TextPart{Text: text})})
	if err != nil {
		t.Fatalf("send %q: %v", text, err)
	}
	msg, ok := res.(*a2a.Message)
	if !ok {
		t.Fatalf("send %q answered %T, want a message", text, res)
	}
	return decodeEcho(t, msg)
}

// TestA2A_AgentCardAndMessages: an a2a-go agent deployed as an A2A runtime; GetAgentCard
// through the AWS SDK returns its card advertising Berth's invocation URL (the agent read it
// from AGENTCORE_RUNTIME_URL), and an a2a-go client built from that card talks to the agent
// through Berth — on the session GetAgentCard started, streaming too, and on a qualified
// endpoint.
func TestA2A_AgentCardAndMessages(t *testing.T) {
	ts := startServer(t)
	img := testagent.ImageOf(t, testagent.Build(t, a2aAgentPackage))
	rt := ts.deployImage(t, "a2a_agent", img, withProtocol(types.ServerProtocolA2a))
	data := ts.Data()
	ctx := context.Background()
	s := sid("a2a")

	card, doc := getCard(t, data, &bedrockagentcore.GetAgentCardInput{AgentRuntimeArn: aws.String(rt.ARN), RuntimeSessionId: aws.String(s)})
	if got, want := doc["url"], ts.invocationURL(rt.ARN); got != want {
		t.Errorf("card url = %v, want %s", got, want)
	}
	if card.Name != "berth-a2a-echo" || card.PreferredTransport != a2a.TransportProtocolJSONRPC {
		t.Errorf("card = %+v", card)
	}
	if recs := ts.sessions(t, "agentRuntimeId="+rt.ID+"&runtimeSessionId="+s+"&live=true"); len(recs) != 1 {
		t.Errorf("GetAgentCard left %d live sessions for %s, want 1: %+v", len(recs), s, recs)
	}

	client, err := a2aclient.NewFromCard(ctx, &card, a2aclient.WithJSONRPCTransport(ts.sessionClient(s)))
	if err != nil {
		t.Fatalf("a2a client from card: %v", err)
	}
	defer func() { _ = client.Destroy() }()
	first := send(t, client, "hello")
	if first.Text != "echo: hello" || first.Count != 1 {
		t.Errorf("first reply = %+v, want echo: hello, count 1", first)
	}
	second := send(t, client, "again")
	if second.Text != "echo: again" || second.Count != 2 || second.Inst != first.Inst {
		t.Errorf("second reply = %+v, want echo: again, count 2 from instance %s (same session)", second, first.Inst)
	}

	t.Run("streaming", func(t *testing.T) {
		var replies []echoReply
		for ev, err := range client.SendStreamingMessage(ctx, &a2a.MessageSendParams{Message: a2a.NewMessage(a2a.MessageRoleUser, a2a.TextPart{Text: "streamed"})}) {
			if err != nil {
				t.Fatalf("stream: %v", err)
			}
			msg, ok := ev.(*a2a.Message)
			if !ok {
				t.Fatalf("stream event %T, want a message", ev)
			}
			replies = append(replies, decodeEcho(t, msg))
		}
		want := []echoReply{{Text: "echo: streamed", Count: 3, PID: first.PID, Inst: first.Inst}}
		if fmt.Sprint(replies) != fmt.Sprint(want) {
			t.Errorf("streamed replies = %+v, want %+v", replies, want)
		}
	})

	t.Run("other session", func(t *testing.T) {
		other, err := a2aclient.NewFromCard(ctx, &card, a2aclient.WithJSONRPCTransport(ts.sessionClient(sid("a2a-other"))))
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = other.Destroy() }()
		if got := send(t, other, "hi"); got.Count != 1 || got.Inst == first.Inst {
			t.Errorf("reply in another session = %+v, want count 1 from a process other than %s", got, first.Inst)
		}
	})

	t.Run("qualified endpoint", func(t *testing.T) {
		if _, err := ts.Control().CreateAgentRuntimeEndpoint(ctx, &cp.CreateAgentRuntimeEndpointInput{
			AgentRuntimeId: aws.String(rt.ID), Name: aws.String("PROD"), AgentRuntimeVersion: aws.String("1"),
		}); err != nil {
			t.Fatalf("create PROD: %v", err)
		}
		card, doc := getCard(t, data, &bedrockagentcore.GetAgentCardInput{AgentRuntimeArn: aws.String(rt.ARN), Qualifier: aws.String("PROD")})
		if got, want := doc["url"], ts.invocationURL(rt.ARN)+"?qualifier=PROD"; got != want {
			t.Errorf("PROD card url = %v, want %s", got, want)
		}
		c, err := a2aclient.NewFromCard(ctx, &card, a2aclient.WithJSONRPCTransport(ts.sessionClient(sid("a2a-prod"))))
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = c.Destroy() }()
		if got := send(t, c, "prod"); got.Text != "echo: prod" || got.Count != 1 {
			t.Errorf("PROD reply = %+v, want echo: prod, count 1", got)
		}
		if recs := ts.sessions(t, "agentRuntimeId="+rt.ID+"&runtimeSessionId="+sid("a2a-prod")); len(recs) != 1 {
			t.Errorf("sessions for the PROD client: %+v", recs)
		}
	})
}

// TestGetAgentCard_AgentWithoutCard: an A2A runtime whose agent serves no card is a
// RuntimeClientError that says what the agent answered.
func TestGetAgentCard_AgentWithoutCard(t *testing.T) {
	ts := startServer(t)
	rt := ts.deployImage(t, "a2a_nocard", testagent.Image(t), withProtocol(types.ServerProtocolA2a))
	_, err := ts.Data().GetAgentCard(context.Background(), &bedrockagentcore.GetAgentCardInput{AgentRuntimeArn: aws.String(rt.ARN), RuntimeSessionId: aws.String(sid("nocard"))})
	e := asType[*dtypes.RuntimeClientError](t, err)
	if !strings.Contains(e.ErrorMessage(), "404") {
		t.Errorf("message %q does not report the agent's 404", e.ErrorMessage())
	}
}

// TestAGUI_Runtime: an AGUI runtime gets HTTP on 8080 at /invocations, streams SSE, carries
// AGENTCORE_RUNTIME_URL, serves GET /ws in the same session, and has no agent card.
func TestAGUI_Runtime(t *testing.T) {
	ts := startServer(t)
	rt := ts.deployImage(t, "agui_agent", testagent.Image(t), withProtocol(types.ServerProtocolAgui))
	c := ts.Data()
	ctx := context.Background()
	s := sid("agui")

	out, err := c.InvokeAgentRuntime(ctx, &bedrockagentcore.InvokeAgentRuntimeInput{
		AgentRuntimeArn: aws.String(rt.ARN), RuntimeSessionId: aws.String(s),
		ContentType: aws.String("application/json"), Accept: aws.String("text/event-stream"),
		Payload: []byte(`{"op":"sse","n":3,"interval_ms":20}`),
	})
	if err != nil {
		t.Fatalf("sse invoke: %v", err)
	}
	if aws.ToString(out.ContentType) != "text/event-stream" {
		t.Errorf("content type %q, want text/event-stream", aws.ToString(out.ContentType))
	}
	var seen []int
	sc := bufio.NewScanner(out.Response)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var ev struct {
			I int `json:"i"`
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("event %q: %v", line, err)
		}
		seen = append(seen, ev.I)
	}
	_ = out.Response.Close()
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(seen) != "[0 1 2]" {
		t.Errorf("events %v, want [0 1 2]", seen)
	}

	m, _ := invokeJSON(t, c, rt.ARN, s, `{"op":"env"}`)
	env := map[string]string{}
	for _, kv := range m["env"].([]any) {
		k, v, _ := strings.Cut(kv.(string), "=")
		env[k] = v
	}
	want := map[string]string{"AGENTCORE_RUNTIME_PROTOCOL": "AGUI", "PORT": "8080", "AGENTCORE_RUNTIME_URL": ts.invocationURL(rt.ARN)}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("env %s = %q, want %q", k, env[k], v)
		}
	}

	// GET /ws reaches the agent's WebSocket on the same port, in the same session.
	u := ts.wsURL(rt.ARN, "")
	ws, h := mustDialWS(t, toWS(u), signedWSHeader(t, u, ts.Creds, s))
	if got := h.Get(wsSessionHeader); got != s {
		t.Errorf("101 answer session header = %q, want %q", got, s)
	}
	roundTrip(t, ws, websocket.MessageText, []byte(`{"threadId":"t1","runId":"r1","messages":[]}`))
	_ = ws.Close(websocket.StatusNormalClosure, "")
	if recs := ts.sessions(t, "agentRuntimeId="+rt.ID+"&runtimeSessionId="+s); len(recs) != 1 {
		t.Errorf("session records for %s after SSE, JSON and WebSocket calls: %+v, want one", s, recs)
	}

	_, err = c.GetAgentCard(ctx, &bedrockagentcore.GetAgentCardInput{AgentRuntimeArn: aws.String(rt.ARN)})
	e := asType[*dtypes.ValidationException](t, err)
	if !strings.Contains(e.ErrorMessage(), "A2A") {
		t.Errorf("message %q does not say GetAgentCard is for A2A runtimes", e.ErrorMessage())
	}
}
