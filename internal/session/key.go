package session

import (
	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/sandbox"
)

// Key identifies a session: the caller's session id is scoped by runtime and endpoint.
type Key struct{ RuntimeID, Endpoint, SessionID string }

// Target is what a new session runs; the caller resolves it from the catalog at first use.
type Target struct {
	Runtime catalog.Runtime
	Version catalog.Version // READY, with Prepared set
	// Spec is fully built by the caller except ID, Stdout and Stderr, which the manager sets.
	Spec sandbox.Spec
	Port int // the agent's port (catalog.EffectiveProtocol); 0 means take it from Version
	// Notices are written at the top of the session's log before the agent starts (e.g.
	// "PYTHON_3_13 requested; running with python3.11").
	Notices []string
}

// Reasons a session ends, kept in store.SessionRecord.EndReason.
const (
	ReasonIdleTimeout    = "idle_timeout"
	ReasonMaxLifetime    = "max_lifetime"
	ReasonStopped        = "stopped"
	ReasonAgentExited    = "agent_exited"
	ReasonUnhealthy      = "unhealthy"
	ReasonServerShutdown = "server_shutdown"
	ReasonServerRestart  = "server_restart"
	ReasonStartFailed    = "start_failed"
	ReasonRuntimeDeleted = "runtime_deleted"
)
