package server

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/telemetry/agentotlp"
	"berth.dev/berth/internal/telemetry/tracestore"
	"berth.dev/berth/internal/telemetry/tracing"
)

// traceFlushTimeout bounds the flush of queued spans at shutdown.
const traceFlushTimeout = 10 * time.Second

// startTracing opens the trace store (<dataDir>/traces.db) and the trace pipeline that
// feeds it and the OTLP endpoint. Both close after the session manager, so the spans of the
// last requests and sessions are kept.
func (s *Server) startTracing(ctx context.Context) error {
	st, err := tracestore.Open(ctx, filepath.Join(s.cfg.DataDir, "traces.db"), tracestore.Options{
		Retention: s.cfg.Telemetry.TraceRetention,
		MaxSpans:  s.cfg.Telemetry.TraceMaxSpans,
		Logger:    s.log.With("component", "tracestore"),
	})
	if err != nil {
		return err
	}
	s.closers = append(s.closers, st.Close)
	s.traceStore = st
	p, err := tracing.New(ctx, tracing.Options{
		Endpoint: s.cfg.Telemetry.OTLPEndpoint,
		Headers:  s.cfg.Telemetry.OTLPHeaders,
		Local:    st,
		Logger:   s.log.With("component", "tracing"),
	})
	if err != nil {
		return fmt.Errorf("tracing: %w", err)
	}
	s.tracer = p
	s.closers = append(s.closers, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), traceFlushTimeout)
		defer cancel()
		if err := p.Shutdown(ctx); err != nil {
			// Spans lost to a slow or absent collector do not fail the shutdown.
			s.log.Warn("flush traces", "err", err)
		}
		return nil
	})
	return nil
}

// withAgentOTLP returns d serving the agents' OTLP endpoint in every sandbox
// (internal/telemetry/agentotlp) when telemetry.agentOtlp is on and d's sandboxes can be
// listened in; d itself otherwise.
func (s *Server) withAgentOTLP(d sandbox.Driver) sandbox.Driver {
	if !s.cfg.Telemetry.AgentOTLP {
		return d
	}
	return agentotlp.Wrap(d, &agentotlp.Receiver{
		Store:  s.traceStore,
		Export: s.tracer,
		Logs:   agentLogs{s},
		Labels: s.sandboxLabels,
		Logger: s.log.With("component", "agentotlp"),
	})
}

// sandboxLabels says which runtime, version, endpoint and session sandbox id serves now.
func (s *Server) sandboxLabels(id string) (agentotlp.Labels, bool) {
	ss, ok := s.sessions.SessionOnSandbox(id)
	if !ok {
		return agentotlp.Labels{}, false
	}
	return agentotlp.Labels{RuntimeID: ss.Key.RuntimeID, RuntimeVersion: strconv.Itoa(ss.Version),
		Endpoint: ss.Key.Endpoint, SessionID: ss.Key.SessionID}, true
}
