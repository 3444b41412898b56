// Package telemetry holds Berth's server metrics: OpenTelemetry instruments exported in the
// Prometheus text format by Handler (served at GET /metrics) and, with an OTLPMetrics reader,
// pushed to an OTLP/HTTP receiver. The names follow the meaning of
// AgentCore Runtime's CloudWatch metrics (AGENTCORE-WIRE.md §7.2):
//
//	berth_invocations_total{operation,runtime,endpoint}      Invocations
//	berth_throttles_total{…}                                 Throttles (429)
//	berth_system_errors_total{…}                             SystemErrors (5xx)
//	berth_user_errors_total{…}                               UserErrors (4xx except 429)
//	berth_invocation_duration_seconds{…}                     Latency (histogram)
//	berth_sessions_started_total{runtime,endpoint}           SessionCount
//	berth_sessions_active{runtime,endpoint}                  ActiveSessionCount
//	berth_cpu_used_vcpu_hours_total{runtime,endpoint}        CPUUsed-vCPUHours
//	berth_memory_used_gb_hours_total{runtime,endpoint}       MemoryUsed-GBHours
//
// and Berth's own: berth_sandbox_starts_total and berth_sandbox_start_duration_seconds
// {driver,pool_hit} (pool_hit="false" is a cold start), berth_pool_sandboxes{state},
// berth_pool_memory_bytes, berth_pool_hits_total, berth_pool_misses_total and
// berth_proxy_bytes_total{direction} (request and response bodies of invocations through
// the HTTP proxy; bytes of spliced WebSocket streams are not counted).
//
// CPU and memory usage are the meter's billable figures (internal/metering), counted as the
// meter measures them, so they lag by up to one metering interval. Every method is safe on
// a nil *Metrics, which records nothing.
package telemetry

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// PoolStats is what the pool gauges read (session.PoolStats, copied to keep this package
// free of the session manager).
type PoolStats struct {
	Ready, Starting int
	MemoryBytes     int64
	Hits, Misses    int64
}

// Sources are read at every scrape.
type Sources struct {
	Pools  func() PoolStats
	Active func() map[[2]string]int // live sessions by runtime id and endpoint
}

// Metrics holds the instruments.
type Metrics struct {
	provider *sdkmetric.MeterProvider
	handler  http.Handler

	invocations, throttles, systemErrors, userErrors metric.Int64Counter
	latency                                          metric.Float64Histogram
	sessionsStarted, sandboxStarts                   metric.Int64Counter
	startLatency                                     metric.Float64Histogram
	cpuHours, memHours                               metric.Float64Counter
	proxyBytes                                       metric.Int64Counter
}

// latencyBuckets cover a warm call (ms) to a long stream (minutes), in seconds.
var latencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900}

// New creates the instruments on a registry of their own and registers the gauges that read
// src at scrape time. Extra readers (an OTLP push, see OTLPMetrics) get the same metrics.
func New(src Sources, extra ...sdkmetric.Reader) (*Metrics, error) {
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo(), otelprom.WithoutTargetInfo())
	if err != nil {
		return nil, fmt.Errorf("prometheus exporter: %w", err)
	}
	opts := []sdkmetric.Option{sdkmetric.WithReader(exp)}
	for _, r := range extra {
		opts = append(opts, sdkmetric.WithReader(r))
	}
	provider := sdkmetric.NewMeterProvider(opts...)
	mt := &Metrics{provider: provider, handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{})}
	m := provider.Meter("berth.dev/berth")
	var errs []error
	counter := func(name, desc string) metric.Int64Counter {
		c, err := m.Int64Counter(name, metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	mt.invocations = counter("berth.invocations", "Data-plane calls to agents (InvokeAgentRuntime and its WebSocket, command and MCP forms).")
	mt.throttles = counter("berth.throttles", "Data-plane calls refused with 429.")
	mt.systemErrors = counter("berth.system_errors", "Data-plane calls that failed with a 5xx.")
	mt.userErrors = counter("berth.user_errors", "Data-plane calls that failed with a 4xx other than 429 (424 RuntimeClientError included).")
	mt.sessionsStarted = counter("berth.sessions.started", "Sessions started, counted once per session.")
	mt.sandboxStarts = counter("berth.sandbox.starts", "Sandboxes sessions started on: pool_hit=false is a cold start.")
	mt.latency, err = m.Float64Histogram("berth.invocation.duration", metric.WithUnit("s"),
		metric.WithDescription("Time from a data-plane call's arrival to the end of its response."), metric.WithExplicitBucketBoundaries(latencyBuckets...))
	errs = append(errs, err)
	mt.startLatency, err = m.Float64Histogram("berth.sandbox.start.duration", metric.WithUnit("s"),
		metric.WithDescription("Time from a session's first request to its agent answering."), metric.WithExplicitBucketBoundaries(latencyBuckets...))
	errs = append(errs, err)
	mt.cpuHours, err = m.Float64Counter("berth.cpu_used_vcpu_hours", metric.WithDescription("Billable CPU used by sessions, vCPU-hours."))
	errs = append(errs, err)
	mt.memHours, err = m.Float64Counter("berth.memory_used_gb_hours", metric.WithDescription("Billable memory used by sessions, GB-hours (peak so far, 128 MB floor)."))
	errs = append(errs, err)
	mt.proxyBytes, err = m.Int64Counter("berth.proxy", metric.WithUnit("By"), metric.WithDescription("Body bytes proxied between callers and agents."))
	errs = append(errs, err)
	errs = append(errs, mt.observe(m, src))
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("create metrics: %w", err)
		}
	}
	return mt, nil
}

// observe registers the instruments read at scrape time.
func (mt *Metrics) observe(m metric.Meter, src Sources) error {
	active, err := m.Int64ObservableGauge("berth.sessions.active", metric.WithDescription("Sessions live now."))
	if err != nil {
		return err
	}
	poolSandboxes, err := m.Int64ObservableGauge("berth.pool.sandboxes", metric.WithDescription("Pre-started sandboxes in the warm pools, by state."))
	if err != nil {
		return err
	}
	poolMemory, err := m.Int64ObservableGauge("berth.pool.memory", metric.WithUnit("By"), metric.WithDescription("Memory limits charged by the warm pools."))
	if err != nil {
		return err
	}
	hits, err := m.Int64ObservableCounter("berth.pool.hits", metric.WithDescription("Sessions that took a pre-started sandbox."))
	if err != nil {
		return err
	}
	misses, err := m.Int64ObservableCounter("berth.pool.misses", metric.WithDescription("Sessions started cold while pools are on."))
	if err != nil {
		return err
	}
	_, err = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		if src.Active != nil {
			for k, n := range src.Active() {
				o.ObserveInt64(active, int64(n), metric.WithAttributes(attribute.String("runtime", k[0]), attribute.String("endpoint", k[1])))
			}
		}
		if src.Pools != nil {
			p := src.Pools()
			o.ObserveInt64(poolSandboxes, int64(p.Ready), metric.WithAttributes(attribute.String("state", "ready")))
			o.ObserveInt64(poolSandboxes, int64(p.Starting), metric.WithAttributes(attribute.String("state", "starting")))
			o.ObserveInt64(poolMemory, p.MemoryBytes)
			o.ObserveInt64(hits, p.Hits)
			o.ObserveInt64(misses, p.Misses)
		}
		return nil
	}, active, poolSandboxes, poolMemory, hits, misses)
	return err
}

// Handler serves the metrics in the Prometheus text format.
func (mt *Metrics) Handler() http.Handler { return mt.handler }

// Shutdown stops the instruments.
func (mt *Metrics) Shutdown(ctx context.Context) error {
	if mt == nil {
		return nil
	}
	return mt.provider.Shutdown(ctx)
}

// Call records one data-plane call to an agent that answered status after d.
func (mt *Metrics) Call(ctx context.Context, operation, runtimeID, endpoint string, status int, d time.Duration) {
	if mt == nil {
		return
	}
	attrs := metric.WithAttributes(attribute.String("operation", operation), attribute.String("runtime", runtimeID), attribute.String("endpoint", endpoint))
	mt.invocations.Add(ctx, 1, attrs)
	mt.latency.Record(ctx, d.Seconds(), attrs)
	switch {
	case status == http.StatusTooManyRequests:
		mt.throttles.Add(ctx, 1, attrs)
	case status >= 500:
		mt.systemErrors.Add(ctx, 1, attrs)
	case status >= 400:
		mt.userErrors.Add(ctx, 1, attrs)
	}
}

// SessionStarted records a session that started on driver, from a warm pool or cold, after
// startup.
func (mt *Metrics) SessionStarted(ctx context.Context, runtimeID, endpoint, driver string, poolHit bool, startup time.Duration) {
	if mt == nil {
		return
	}
	mt.sessionsStarted.Add(ctx, 1, metric.WithAttributes(attribute.String("runtime", runtimeID), attribute.String("endpoint", endpoint)))
	attrs := metric.WithAttributes(attribute.String("driver", driver), attribute.String("pool_hit", strconv.FormatBool(poolHit)))
	mt.sandboxStarts.Add(ctx, 1, attrs)
	mt.startLatency.Record(ctx, startup.Seconds(), attrs)
}

// Billed adds billable usage measured by the meter.
func (mt *Metrics) Billed(ctx context.Context, runtimeID, endpoint string, vcpuSeconds, gbSeconds float64) {
	if mt == nil {
		return
	}
	attrs := metric.WithAttributes(attribute.String("runtime", runtimeID), attribute.String("endpoint", endpoint))
	mt.cpuHours.Add(ctx, vcpuSeconds/3600, attrs)
	mt.memHours.Add(ctx, gbSeconds/3600, attrs)
}

// ProxyBytes adds n body bytes proxied in direction "request" or "response".
func (mt *Metrics) ProxyBytes(ctx context.Context, direction string, n int64) {
	if mt == nil || n == 0 {
		return
	}
	mt.proxyBytes.Add(ctx, n, metric.WithAttributes(attribute.String("direction", direction)))
}
