package server

import (
	"context"
	"sync"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"berth.dev/berth/internal/metering"
	"berth.dev/berth/internal/session"
	"berth.dev/berth/internal/telemetry"
)

// meterHooks connects the session manager's start and end notices to the meter (and to the
// metrics, when they are on).
type meterHooks struct {
	s *Server
}

// startMeter creates the usage meter and runs it until shutdown; it is closed after the
// session manager (whose Close ends every session and so flushes their usage) and before the
// store.
func (s *Server) startMeter(ctx context.Context) (meterHooks, error) {
	m, err := metering.New(metering.Options{
		Store:    s.db,
		Logger:   s.log.With("component", "metering"),
		Interval: s.cfg.Metering.Interval,
		Billed:   s.billed,
	})
	if err != nil {
		return meterHooks{}, err
	}
	s.meter = m
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { m.Run(runCtx) })
	s.closers = append(s.closers, func() error {
		cancel()
		wg.Wait()
		return nil
	})
	return meterHooks{s: s}, nil
}

func (h meterHooks) started(st session.Started) {
	h.s.meter.Begin(metering.Session{
		RecordID: st.RecordID, RuntimeID: st.Key.RuntimeID, Endpoint: st.Key.Endpoint, SessionID: st.Key.SessionID,
		StartedAt: st.StartedAt, BaseCPU: st.BaseUsage.CPUTime, Usage: st.Usage,
	})
	h.s.sessionStarted(st)
}

func (h meterHooks) ended(e session.Ended) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h.s.meter.End(ctx, e.RecordID, e.Usage, e.EndedAt)
}

// otlpMetricsInterval is how often metrics are pushed to telemetry.otlpEndpoint: AgentCore
// publishes its CloudWatch metrics in one-minute batches.
const otlpMetricsInterval = time.Minute

// startMetrics creates the metrics when telemetry.metrics is on (served at /metrics) or
// telemetry.otlpEndpoint is set (pushed there every minute); they read the warm pools and
// the meter's live sessions at every collection.
func (s *Server) startMetrics(ctx context.Context) error {
	var push []sdkmetric.Reader
	if s.cfg.Telemetry.OTLPEndpoint != "" {
		r, err := telemetry.OTLPMetrics(ctx, s.cfg.Telemetry.OTLPEndpoint, s.cfg.Telemetry.OTLPHeaders, otlpMetricsInterval)
		if err != nil {
			return err
		}
		push = append(push, r)
	}
	if !s.cfg.Telemetry.Metrics && len(push) == 0 {
		return nil
	}
	mt, err := telemetry.New(telemetry.Sources{
		Pools: func() telemetry.PoolStats {
			if s.sessions == nil {
				return telemetry.PoolStats{}
			}
			p := s.sessions.PoolStats()
			return telemetry.PoolStats{Ready: p.Ready, Starting: p.Starting, MemoryBytes: p.MemoryBytes, Hits: p.Hits, Misses: p.Misses}
		},
		Active: func() map[[2]string]int {
			if s.meter == nil {
				return nil
			}
			return s.meter.Live()
		},
	}, push...)
	if err != nil {
		return err
	}
	s.metrics = mt
	s.closers = append(s.closers, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return mt.Shutdown(ctx)
	})
	return nil
}

// billed passes the meter's measurements to the metrics.
func (s *Server) billed(runtimeID, endpoint string, vcpuSeconds, gbSeconds float64) {
	s.metrics.Billed(context.Background(), runtimeID, endpoint, vcpuSeconds, gbSeconds)
}

// sessionStarted counts a started session in the metrics.
func (s *Server) sessionStarted(st session.Started) {
	s.metrics.SessionStarted(context.Background(), st.Key.RuntimeID, st.Key.Endpoint, st.Driver, st.PoolHit, st.Startup)
}
