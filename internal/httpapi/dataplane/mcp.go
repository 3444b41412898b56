package dataplane

import (
	"context"
	"fmt"
	"net/http"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/session"
	"berth.dev/berth/internal/store"
)

// MCP runtimes (serverProtocol MCP, AGENTCORE-WIRE.md §4.5) speak MCP streamable HTTP
// through the invocations URL, so a standard MCP client pointed at
// /runtimes/{arn}/invocations?qualifier=… works:
//
//   - POST (JSON-RPC messages) is InvokeAgentRuntime; GET (the server-to-client SSE stream)
//     and DELETE (end of the MCP session) are forwarded with their method to the agent's
//     path. Other protocols answer GET and DELETE on that URL with
//     UnknownOperationException, as AWS answers any method its model lacks.
//   - The session key is the runtime session header if sent, else the Mcp-Session-Id header
//     if sent, else a UUID Berth makes. The agent gets the request's Mcp-Session-Id, or —
//     when there is none — the runtime session id (the generated one included), so one key
//     always names one MCP session. The caller gets back the agent's Mcp-Session-Id if it
//     set one, else that id, with the runtime session header and the agent's
//     Mcp-Protocol-Version.
//   - Only POST starts a session. GET and DELETE need a session id and a live session of
//     it (else ResourceNotFoundException), so a stray GET never starts a sandbox. DELETE
//     is forwarded but does not end Berth's session: StopRuntimeSession or the idle
//     timeout does.
//   - The agent's 4xx answers are relayed as they are (status, Content-Type and body), not
//     turned into RuntimeClientError: MCP clients act on them (405: no SSE stream or no
//     DELETE; 404: session gone, initialize again; 400 with a JSON-RPC error). 2xx pass as
//     for any runtime (202 for notifications, with its empty body); 5xx and crashes are
//     RuntimeClientError.
//
// A stateful MCP server must accept the Mcp-Session-Id Berth sends on initialize, as AWS
// requires ("servers must not reject a platform-generated Mcp-Session-Id"); one that mints
// its own id and rejects others cannot work behind the platform.

const (
	serverProtocolMCP = "MCP"
	mcpSessionHeader  = "Mcp-Session-Id"
)

// mcpExchange is how one request reaches an MCP runtime.
type mcpExchange struct {
	key       string // the session key
	sessionID string // the Mcp-Session-Id sent to the agent, and returned unless it sets one
	start     bool   // the request may start a session (POST)
}

// mcpRoute decides how r reaches the runtime whose live configuration is cfg; sid is the
// runtime session id sessionID returned (made up when the header is absent). It returns nil
// for other protocols, whose GET and DELETE are unknown operations.
func mcpRoute(r *http.Request, cfg catalog.RuntimeConfig, sid string) (*mcpExchange, error) {
	if protocol, _, _ := catalog.EffectiveProtocol(cfg); protocol != serverProtocolMCP {
		if r.Method != http.MethodPost {
			return nil, unknownOperation{}
		}
		return nil, nil
	}
	m := &mcpExchange{key: sid, sessionID: r.Header.Get(mcpSessionHeader), start: r.Method == http.MethodPost}
	switch {
	case r.Header.Get(sessionHeader) != "":
		if m.sessionID == "" {
			m.sessionID = sid
		}
	case m.sessionID != "":
		m.key = m.sessionID
	case !m.start:
		return nil, errdefs.Invalid("mcpSessionId", "Member must not be null for %s: send the Mcp-Session-Id (or the runtime session id) of a live session", r.Method)
	default:
		m.sessionID = sid
	}
	return m, nil
}

// mcpStarter returns what Acquire calls to start a session for the request: start itself for
// POST. GET and DELETE never start one: without a live record of key they fail at once, and
// the function they get refuses, for a session that ended since the check.
func (a *API) mcpStarter(ctx context.Context, key session.Key, m *mcpExchange,
	start func(context.Context) (session.Target, error),
) (func(context.Context) (session.Target, error), error) {
	if m.start {
		return start, nil
	}
	noSession := fmt.Errorf("%w: no active session %s for agent runtime %s endpoint %s (only POST starts a session)",
		errdefs.ErrNotFound, key.SessionID, key.RuntimeID, key.Endpoint)
	live, err := a.hasLiveSession(ctx, key)
	if err != nil {
		return nil, err
	}
	if !live {
		return nil, noSession
	}
	return func(context.Context) (session.Target, error) { return session.Target{}, noSession }, nil
}

// hasLiveSession reports whether the store holds a record of key that has not ended.
func (a *API) hasLiveSession(ctx context.Context, key session.Key) (bool, error) {
	var recs []store.SessionRecord
	err := a.st.View(ctx, func(tx store.Tx) error {
		var err error
		recs, err = tx.Sessions().ListSessions(ctx, store.SessionFilter{RuntimeID: key.RuntimeID, SessionID: key.SessionID, LiveOnly: true}, "", 100)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("look up session %s: %w", key.SessionID, err)
	}
	for _, rec := range recs {
		if rec.Endpoint == key.Endpoint {
			return true, nil
		}
	}
	return false, nil
}

// adapt prepares the exchange: it sets the agent's Mcp-Session-Id in header (and drops the
// default Content-Type from a bodiless GET or DELETE), and returns the writer that adds
// Mcp-Session-Id to the answer when the agent sets none, and the statuses to relay.
func (m *mcpExchange) adapt(w http.ResponseWriter, r *http.Request, header http.Header) (http.ResponseWriter, func(int) bool) {
	header.Set(mcpSessionHeader, m.sessionID)
	if r.Method != http.MethodPost && r.Header.Get("Content-Type") == "" {
		header.Del("Content-Type")
	}
	return &mcpResponseWriter{ResponseWriter: w, sessionID: m.sessionID}, relayMCPStatus
}

// relayMCPStatus reports which agent error statuses reach an MCP client unchanged: 4xx.
func relayMCPStatus(status int) bool { return status >= 400 && status < 500 }

// mcpResponseWriter sets Mcp-Session-Id on the final response header unless the agent's
// answer already carries one.
type mcpResponseWriter struct {
	http.ResponseWriter
	sessionID string
	wrote     bool
}

func (w *mcpResponseWriter) WriteHeader(code int) {
	if !w.wrote && code >= http.StatusOK {
		w.wrote = true
		if h := w.Header(); h.Get(mcpSessionHeader) == "" {
			h.Set(mcpSessionHeader, w.sessionID)
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *mcpResponseWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush on the underlying writer.
func (w *mcpResponseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// unknownOperation is what AWS answers for a method and path its model lacks.
type unknownOperation struct{}

func (unknownOperation) Error() string     { return "unknown operation" }
func (unknownOperation) ErrorType() string { return "UnknownOperationException" }
func (unknownOperation) HTTPStatus() int   { return http.StatusNotFound }
