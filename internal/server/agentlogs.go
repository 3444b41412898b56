package server

import (
	"context"
	"errors"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"

	"berth.dev/berth/internal/sessionlog"
	"berth.dev/berth/internal/sessionlog/logexport"
	"berth.dev/berth/internal/telemetry/agentotlp"
)

// agentLogs takes the OTLP logs agents send to their sandbox's endpoint into the session's
// log (stream "otel"), which keeps them with the agent's stdout and stderr, shows them in
// `berth logs` and exports them with the rest when telemetry.otlpEndpoint is set.
type agentLogs struct{ s *Server }

// AgentLogs implements agentotlp.LogSink. Logs of a sandbox no session holds (a pooled
// one) or of a session whose log is already closed are dropped.
func (a agentLogs) AgentLogs(_ context.Context, sandboxID string, _ agentotlp.Labels, req *collogspb.ExportLogsServiceRequest) error {
	ss, ok := a.s.sessions.SessionOnSandbox(sandboxID)
	if !ok || a.s.sessions.Logs() == nil {
		return nil
	}
	err := a.s.sessions.Logs().Append(ss.RecordID, logexport.FromOTLP(req))
	if errors.Is(err, sessionlog.ErrNotLive) {
		return nil
	}
	return err
}
