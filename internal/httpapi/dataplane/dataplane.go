// Package dataplane serves AgentCore's data-plane operations (AGENTCORE-WIRE.md §2):
// InvokeAgentRuntime (invoke.go; MCP session routing and GET/DELETE in mcp.go),
// InvokeAgentRuntimeCommand (commands.go, AWS event streams), StopRuntimeSession (stop.go),
// GetAgentCard (agentcard.go), the WebSocket stream /ws (ws.go), plus Berth's session listing
// under /berth/v1/sessions, session logs under /berth/v1/sessions/{id}/logs (logs.go) and
// metered usage under /berth/v1/usage (usage.go). It resolves the runtime and endpoint from
// the catalog, gets a session from the session manager, and streams the exchange through
// internal/proxy.
package dataplane

import (
	"log/slog"
	"net/http"
	"time"

	"berth.dev/berth/internal/auth"
	"berth.dev/berth/internal/control"
	"berth.dev/berth/internal/httpapi"
	"berth.dev/berth/internal/image"
	"berth.dev/berth/internal/metering"
	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/session"
	"berth.dev/berth/internal/store"
	"berth.dev/berth/internal/telemetry"
)

// Options configure the data plane.
type Options struct {
	Region       string
	Interpreters image.Interpreters // finds python/node for code zips
	// HostFilesystem says code zips run on the host's filesystem (their PATH is the
	// server's); otherwise on the base root filesystem (PATH is image.DefaultPath).
	HostFilesystem bool
	// DefaultLimits apply to every session's sandbox.
	CPUs        float64
	MemoryBytes int64
	// Egress lists the network modes the sandbox driver can enforce; a runtime asking for
	// another one runs with NONE and a warning (the process driver has no egress).
	Egress []sandbox.NetworkMode
	// PublicURL is the base URL clients reach this server at; sessions get their runtime's
	// public invocation URL, built from it, in AGENTCORE_RUNTIME_URL.
	PublicURL string
	// Prices give the cost column of GET /berth/v1/usage.
	Prices metering.Prices
	// Metrics, if set, counts the agent-facing calls (instrument.go).
	Metrics *telemetry.Metrics
	// JWT verifies bearer tokens for runtimes with a customJWTAuthorizer (required).
	JWT *auth.JWTVerifier
}

// API holds the data-plane handlers.
type API struct {
	svc      *control.Service
	sessions *session.Manager
	st       store.Store
	log      *slog.Logger
	opts     Options
	stops    *stopTokens
	resolved *resolveCache
}

// New returns the data-plane API.
func New(svc *control.Service, sessions *session.Manager, st store.Store, logger *slog.Logger, opts Options) *API {
	return &API{svc: svc, sessions: sessions, st: st, log: logger, opts: opts, stops: newStopTokens(10 * time.Minute), resolved: newResolveCache()}
}

// Register adds the data-plane routes to mux.
func (a *API) Register(mux *http.ServeMux) {
	h := func(f httpapi.HandlerFunc) http.Handler { return httpapi.Handle(a.log, f) }
	invoke := a.instrument("InvokeAgentRuntime", h(a.invoke))
	mux.Handle("POST /runtimes/{agentRuntimeArn}/invocations", invoke)
	mux.Handle("POST /runtimes/{agentRuntimeArn}/invocations/{$}", invoke)
	// MCP streamable HTTP also uses GET and DELETE on the invocations URL (mcp.go).
	for _, m := range []string{"GET", "DELETE"} {
		mux.Handle(m+" /runtimes/{agentRuntimeArn}/invocations", invoke)
		mux.Handle(m+" /runtimes/{agentRuntimeArn}/invocations/{$}", invoke)
	}
	mux.Handle("POST /runtimes/{agentRuntimeArn}/stopruntimesession", h(a.stopSession))
	mux.Handle("GET /runtimes/{agentRuntimeArn}/ws", a.instrument("InvokeAgentRuntimeWebSocket", h(a.webSocket)))
	mux.Handle("POST /runtimes/{agentRuntimeArn}/commands", a.instrument("InvokeAgentRuntimeCommand", h(a.invokeCommand)))
	mux.Handle("GET /runtimes/{agentRuntimeArn}/invocations/.well-known/agent-card.json", h(a.getAgentCard))
	mux.Handle("GET /berth/v1/sessions", h(a.listSessions))
	mux.Handle("GET /berth/v1/sessions/{id}", h(a.getSession))
	mux.Handle("GET /berth/v1/sessions/{id}/logs", h(a.sessionLogs))
	mux.Handle("GET /berth/v1/usage", h(a.usage))
}
