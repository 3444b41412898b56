package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"berth.dev/berth/test/testagent"
)

// mcpAgentPackage is the MCP test agent, built with the official MCP Go SDK.
const mcpAgentPackage = "berth.dev/berth/test/mcpagent"

// legacyMCP is the last MCP protocol version with initialize and Mcp-Session-Id.
const legacyMCP = "2025-11-25"

// rawExchange is one HTTP request an MCP client made and the answer it got.
type rawExchange struct {
	Method     string // HTTP method
	RPC        string // JSON-RPC method of the request body ("" for none)
	ReqHeader  http.Header
	Status     int
	RespHeader http.Header
	RespBody   string // read unless the answer is an SSE stream
}

// mcpRecorder is a RoundTripper that records every exchange of an MCP client.
type mcpRecorder struct {
	base http.RoundTripper
	mu   sync.Mutex
	seen []rawExchange
}

func (m *mcpRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	ex := rawExchange{Method: req.Method, ReqHeader: req.Header.Clone()}
	if req.Body != nil {
		raw, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		_ = req.Body.Close()
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(raw))
		var msg struct {
			Method string `json:"method"`
		}
		_ = json.Unmarshal(raw, &msg)
		ex.RPC = msg.Method
	}
	resp, err := m.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	ex.Status, ex.RespHeader = resp.StatusCode, resp.Header.Clone()
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		raw, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			return nil, err
		}
		ex.RespBody = string(raw)
		resp.Body = io.NopCloser(bytes.NewReader(raw))
	}
	m.mu.Lock()
	m.seen = append(m.seen, ex)
	m.mu.Unlock()
	return resp, nil
}

func (m *mcpRecorder) exchanges() []rawExchange {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.seen)
}

// mcpIdentity is the whoami tool's result.
type mcpIdentity struct {
	PID              int    `json:"pid"`
	Instance         string `json:"instance"`
	McpSessionID     string `json:"mcpSessionId"`
	RuntimeSessionID string `json:"runtimeSessionId"`
	ProtocolVersion  string `json:"protocolVersion"`
}

// mcpCall calls a tool without arguments and decodes its structured result into out.
func mcpCall(t *testing.T, cs *mcp.ClientSession, tool string, out any) {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: tool, Arguments: map[string]any{}})
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

func mcpIncrement(t *testing.T, cs *mcp.ClientSession) int {
	t.Helper()
	var c struct {
		Count int `json:"count"`
	}
	mcpCall(t, cs, "increment", &c)
	return c.Count
}

// deployMCP deploys the MCP test agent as an MCP runtime.
func (ts *testServer) deployMCP(t *testing.T, name string) deployed {
	t.Helper()
	img := testagent.ImageOf(t, testagent.Build(t, mcpAgentPackage))
	return ts.deployImage(t, name, img, func(in *bedrockagentcorecontrol.CreateAgentRuntimeInput) {
		in.ProtocolConfiguration = &types.ProtocolConfiguration{ServerProtocol: types.ServerProtocolMcp}
	})
}

// mcpEndpoint is the URL a standard MCP client is pointed at.
func (ts *testServer) mcpEndpoint(arn string) string {
	return ts.URL + "/runtimes/" + url.PathEscape(arn) + "/invocations?qualifier=DEFAULT"
}

// connectMCP connects the MCP SDK's client through Berth, recording the raw exchange.
func (ts *testServer) connectMCP(t *testing.T, arn string, opts *mcp.ClientSessionOptions) (*mcp.ClientSession, *mcpRecorder) {
	t.Helper()
	rec := &mcpRecorder{base: ts.signingClient().Transport}
	client := mcp.NewClient(&mcp.Implementation{Name: "berth-e2e", Version: "1.0.0"}, nil)
	cs, err := client.Connect(context.Background(), &mcp.StreamableClientTransport{
		Endpoint:   ts.mcpEndpoint(arn),
		HTTPClient: &http.Client{Transport: rec},
	}, opts)
	if err != nil {
		t.Fatalf("connect MCP client: %v", err)
	}
	return cs, rec
}

// TestMCP_GoSDKClientThroughBerth: an MCP server built with the official Go SDK runs in a
// sandbox; the same SDK's client, pointed at the invocations URL, initializes, lists and
// calls tools; Berth mints the Mcp-Session-Id and routes each client's requests to its own
// sandbox, so per-process state is per-session state.
func TestMCP_GoSDKClientThroughBerth(t *testing.T) {
	ts := startServer(t)
	rt := ts.deployMCP(t, "mcp_agent")
	ctx := context.Background()

	a, recA := ts.connectMCP(t, rt.ARN, &mcp.ClientSessionOptions{ProtocolVersion: legacyMCP})
	tools, err := a.ListTools(ctx, nil)
	if err != nil {
		t.Fatalf("list tools: %v", err)
	}
	var names []string
	for _, tool := range tools.Tools {
		names = append(names, tool.Name)
	}
	slices.Sort(names)
	if diff := cmp.Diff([]string{"increment", "whoami"}, names); diff != "" {
		t.Errorf("tools (-want +got):\n%s", diff)
	}
	if got := []int{mcpIncrement(t, a), mcpIncrement(t, a)}; !slices.Equal(got, []int{1, 2}) {
		t.Errorf("client A counts = %v, want [1 2]", got)
	}

	b, _ := ts.connectMCP(t, rt.ARN, &mcp.ClientSessionOptions{ProtocolVersion: legacyMCP})
	if got := mcpIncrement(t, b); got != 1 {
		t.Errorf("client B's first count = %d, want 1 (a fresh sandbox)", got)
	}
	if got := mcpIncrement(t, a); got != 3 {
		t.Errorf("client A's third count = %d, want 3 (its own sandbox again)", got)
	}
	var idA, idB mcpIdentity
	mcpCall(t, a, "whoami", &idA)
	mcpCall(t, b, "whoami", &idB)
	if idA.Instance == idB.Instance {
		t.Errorf("both clients reached agent instance %s, want two sandboxes", idA.Instance)
	}
	if idA.McpSessionID == "" || idA.McpSessionID == idB.McpSessionID {
		t.Errorf("agent saw Mcp-Session-Id %q and %q, want two distinct ids", idA.McpSessionID, idB.McpSessionID)
	}

	// The raw exchange of client A.
	seen := recA.exchanges()
	if len(seen) == 0 || seen[0].RPC != "initialize" {
		t.Fatalf("first exchange %+v, want initialize", seen)
	}
	first := seen[0]
	if first.ReqHeader.Get("Mcp-Session-Id") != "" || first.Status != http.StatusOK {
		t.Fatalf("initialize: sent Mcp-Session-Id %q, status %d %s", first.ReqHeader.Get("Mcp-Session-Id"), first.Status, first.RespBody)
	}
	minted := first.RespHeader.Get("Mcp-Session-Id")
	if minted != idA.McpSessionID || minted != idA.RuntimeSessionID {
		t.Errorf("Berth returned Mcp-Session-Id %q; the agent saw Mcp-Session-Id %q and runtime session %q (want all equal)",
			minted, idA.McpSessionID, idA.RuntimeSessionID)
	}
	if got := first.RespHeader.Get("X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"); got != minted {
		t.Errorf("runtime session header %q, want %q", got, minted)
	}
	if idA.ProtocolVersion != legacyMCP {
		t.Errorf("agent saw Mcp-Protocol-Version %q, want %q", idA.ProtocolVersion, legacyMCP)
	}
	var notified, streamed, called bool
	for _, ex := range seen[1:] {
		if got := ex.ReqHeader.Get("Mcp-Session-Id"); got != minted {
			t.Errorf("%s %s sent Mcp-Session-Id %q, want %q", ex.Method, ex.RPC, got, minted)
		}
		if got := ex.RespHeader.Get("Mcp-Session-Id"); got != minted {
			t.Errorf("%s %s answered Mcp-Session-Id %q, want %q", ex.Method, ex.RPC, got, minted)
		}
		switch {
		case ex.RPC == "notifications/initialized":
			notified = true
			if ex.Status != http.StatusAccepted || ex.RespBody != "" {
				t.Errorf("notification answered %d %q, want 202 and no body", ex.Status, ex.RespBody)
			}
		case ex.Method == http.MethodGet:
			// The stateless server offers no standalone SSE stream; its 405 reaches the client.
			streamed = true
			if ex.Status != http.StatusMethodNotAllowed {
				t.Errorf("standalone SSE GET answered %d %s, want the agent's 405", ex.Status, ex.RespBody)
			}
		case ex.RPC == "tools/call":
			called = true
			if ex.ReqHeader.Get("Mcp-Protocol-Version") != legacyMCP || ex.RespHeader.Get("Mcp-Protocol-Version") != legacyMCP {
				t.Errorf("tools/call Mcp-Protocol-Version sent %q, answered %q, want %q both ways",
					ex.ReqHeader.Get("Mcp-Protocol-Version"), ex.RespHeader.Get("Mcp-Protocol-Version"), legacyMCP)
			}
		}
	}
	if !notified || !streamed || !called {
		t.Errorf("saw notification %v, SSE GET %v, tools/call %v; want all", notified, streamed, called)
	}

	// Two sessions, keyed by the Mcp-Session-Ids Berth minted.
	var keys []string
	for _, s := range ts.sessions(t, "agentRuntimeId="+rt.ID+"&live=true") {
		keys = append(keys, s.SessionID)
	}
	want := []string{idA.McpSessionID, idB.McpSessionID}
	slices.Sort(keys)
	slices.Sort(want)
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Errorf("live sessions (-want +got):\n%s", diff)
	}

	// Closing sends DELETE, forwarded to the agent (whose 405 comes back); Berth's session
	// lives on until stopped or idle.
	if err := a.Close(); err != nil {
		t.Errorf("close client A: %v", err)
	}
	seen = recA.exchanges()
	if last := seen[len(seen)-1]; last.Method != http.MethodDelete || last.Status != http.StatusMethodNotAllowed {
		t.Errorf("close sent %s and got %d, want DELETE answered by the agent's 405", last.Method, last.Status)
	}
	if got := len(ts.sessions(t, "agentRuntimeId="+rt.ID+"&live=true")); got != 2 {
		t.Errorf("%d live sessions after DELETE, want 2", got)
	}
	if err := b.Close(); err != nil {
		t.Errorf("close client B: %v", err)
	}
}

// TestMCP_LatestProtocolClient: the SDK's default client (MCP 2026-07-28, server/discover,
// Mcp-Method and Mcp-Name headers) works through Berth too, and the Mcp-Session-Id Berth
// returns keeps it on one sandbox.
func TestMCP_LatestProtocolClient(t *testing.T) {
	ts := startServer(t)
	rt := ts.deployMCP(t, "mcp_latest")
	cs, rec := ts.connectMCP(t, rt.ARN, nil)
	defer func() { _ = cs.Close() }()
	if got := []int{mcpIncrement(t, cs), mcpIncrement(t, cs)}; !slices.Equal(got, []int{1, 2}) {
		t.Errorf("counts = %v, want [1 2]", got)
	}
	var legacy bool
	for _, ex := range rec.exchanges() {
		legacy = legacy || ex.RPC == "initialize"
	}
	if legacy {
		t.Errorf("the client fell back to initialize; want the latest protocol to work: %+v", rec.exchanges())
	}
	if got := len(ts.sessions(t, "agentRuntimeId="+rt.ID)); got != 1 {
		t.Errorf("%d sessions, want 1", got)
	}
}

// TestMCP_StreamMethods: GET and DELETE on the invocations URL never start a session, need
// a session id, and exist only for MCP runtimes.
func TestMCP_StreamMethods(t *testing.T) {
	ts := startServer(t)
	mcpRT := ts.deployMCP(t, "mcp_methods")
	httpRT := ts.deployImage(t, "http_methods", testagent.Image(t), nil)

	send := func(method, arn string, header map[string]string) *reply {
		t.Helper()
		req, err := http.NewRequest(method, ts.mcpEndpoint(arn), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", "text/event-stream")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := ts.signingClient().Do(req) //nolint:bodyclose // closed by readReply
		if err != nil {
			t.Fatal(err)
		}
		return readReply(t, resp)
	}
	tests := []struct {
		name       string
		method     string
		arn        string
		header     map[string]string
		wantStatus int
		wantType   string
	}{
		{"get unknown mcp session", "GET", mcpRT.ARN, map[string]string{"Mcp-Session-Id": "no-such-session"}, 404, "ResourceNotFoundException"},
		{"delete unknown runtime session", "DELETE", mcpRT.ARN, map[string]string{"X-Amzn-Bedrock-AgentCore-Runtime-Session-Id": sid("nothing")}, 404, "ResourceNotFoundException"},
		{"get without a session id", "GET", mcpRT.ARN, nil, 400, "ValidationException"},
		{"get on an http runtime", "GET", httpRT.ARN, map[string]string{"Mcp-Session-Id": "x"}, 404, "UnknownOperationException"},
		{"delete on an http runtime", "DELETE", httpRT.ARN, nil, 404, "UnknownOperationException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := send(tt.method, tt.arn, tt.header)
			typ, body := errorType(t, resp)
			if resp.StatusCode != tt.wantStatus || typ != tt.wantType {
				t.Errorf("%s = %d %s (%v), want %d %s", tt.method, resp.StatusCode, typ, body, tt.wantStatus, tt.wantType)
			}
		})
	}
	for _, rt := range []deployed{mcpRT, httpRT} {
		if got := ts.sessions(t, "agentRuntimeId="+rt.ID); len(got) != 0 {
			t.Errorf("runtime %s has sessions %+v, want none: GET and DELETE never start one", rt.ID, got)
		}
	}

	// With a live session, GET and DELETE reach the agent (a stateless server: 405 both).
	cs, _ := ts.connectMCP(t, mcpRT.ARN, &mcp.ClientSessionOptions{ProtocolVersion: legacyMCP})
	defer func() { _ = cs.Close() }()
	live := ts.sessions(t, "agentRuntimeId="+mcpRT.ID+"&live=true")
	if len(live) != 1 {
		t.Fatalf("live sessions %+v, want 1", live)
	}
	for _, method := range []string{"GET", "DELETE"} {
		resp := send(method, mcpRT.ARN, map[string]string{"Mcp-Session-Id": live[0].SessionID})
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Mcp-Session-Id") != live[0].SessionID {
			t.Errorf("%s on a live session = %d (Mcp-Session-Id %q) %s, want the agent's 405",
				method, resp.StatusCode, resp.Header.Get("Mcp-Session-Id"), resp.Body)
		}
	}
}
