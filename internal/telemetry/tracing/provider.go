// Package tracing is Berth's OpenTelemetry trace pipeline: the SDK TracerProvider the
// server's spans come from, the propagation it speaks with callers and agents, and the
// export of both the server's spans and the agents' (internal/telemetry/agentotlp) to the
// configured OTLP/HTTP endpoint.
//
// Every server span goes to two batch processors: one feeds the local trace store
// (internal/telemetry/tracestore, within LocalDelay), the other an otlptracehttp exporter
// posting to {Endpoint}/v1/traces with the configured headers, when an endpoint is set.
// Agent spans arrive as OTLP protobuf already; ExportAgentSpans hands them, stamped, to the
// same OTLP client (otlptrace.Client.UploadTraces) on a goroutine of its own, so they reach
// the collector as the agent sent them — every attribute type, event and link intact — in
// the same trace as the server's spans when the agent continued the traceparent Berth gave
// it.
//
// Nothing here is global: the provider is not installed with otel.SetTracerProvider, so two
// servers in one process (tests) keep their spans apart. Code below the HTTP middleware
// finds the tracer through the span in its context
// (trace.SpanFromContext(ctx).TracerProvider()).
package tracing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"berth.dev/berth/internal/telemetry"
)

// Options configure the trace pipeline.
type Options struct {
	// Endpoint is the base URL of an OTLP/HTTP receiver (telemetry.otlpEndpoint); spans go
	// to Endpoint/v1/traces. "" exports nothing.
	Endpoint string
	// Headers are sent with every export, as "key=value" (telemetry.otlpHeaders).
	Headers []string
	// Local receives every server span as well (the trace store); nil keeps none.
	Local sdktrace.SpanExporter
	// LocalDelay is the longest an ended span waits before it reaches Local; 0 means 500 ms.
	LocalDelay time.Duration
	// Logger receives export failures; nil discards them.
	Logger *slog.Logger
}

// Provider is a running trace pipeline.
type Provider struct {
	tp     *sdktrace.TracerProvider
	local  sdktrace.SpanProcessor // nil without Local
	client otlptrace.Client       // nil without an endpoint
	agent  *agentExport           // nil without an endpoint
}

// New builds the pipeline; it does not contact the endpoint.
func New(ctx context.Context, opts Options) (*Provider, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.LocalDelay <= 0 {
		opts.LocalDelay = 500 * time.Millisecond
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(attribute.String("service.name", "berth")))
	if err != nil {
		return nil, fmt.Errorf("trace resource: %w", err)
	}
	tpOpts := []sdktrace.TracerProviderOption{
		sdktrace.WithResource(res),
		sdktrace.WithIDGenerator(IDGenerator{}),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.AlwaysSample())),
	}
	p := &Provider{}
	if opts.Local != nil {
		p.local = sdktrace.NewBatchSpanProcessor(opts.Local, sdktrace.WithBatchTimeout(opts.LocalDelay))
		tpOpts = append(tpOpts, sdktrace.WithSpanProcessor(p.local))
	}
	if opts.Endpoint != "" {
		headers, err := telemetry.OTLPHeaders(opts.Headers)
		if err != nil {
			return nil, err
		}
		p.client = otlptracehttp.NewClient(
			otlptracehttp.WithEndpointURL(telemetry.OTLPURL(opts.Endpoint, "traces")),
			otlptracehttp.WithHeaders(headers))
		exp, err := otlptrace.New(ctx, p.client)
		if err != nil {
			return nil, fmt.Errorf("otlp trace exporter: %w", err)
		}
		tpOpts = append(tpOpts, sdktrace.WithBatcher(&quietExporter{SpanExporter: exp, log: opts.Logger, what: "server spans"}))
		p.agent = newAgentExport(p.client, opts.Logger)
	}
	p.tp = sdktrace.NewTracerProvider(tpOpts...)
	return p, nil
}

// TracerProvider is where the server's spans come from.
func (p *Provider) TracerProvider() trace.TracerProvider { return p.tp }

// FlushLocal hands every span ended so far to Local (GET /berth/v1/traces calls it, so a
// trace shows as soon as its request is over). It does not wait for the OTLP export.
func (p *Provider) FlushLocal(ctx context.Context) error {
	if p.local == nil {
		return nil
	}
	return p.local.ForceFlush(ctx)
}

// ExportAgentSpans queues agent spans (stamped OTLP resource spans) for the OTLP endpoint
// and returns at once; without an endpoint it does nothing. When the queue is full the
// spans are dropped, counted, and a warning logged.
func (p *Provider) ExportAgentSpans(rs []*tracepb.ResourceSpans) {
	if p.agent != nil && len(rs) > 0 {
		p.agent.enqueue(rs)
	}
}

// Shutdown flushes the spans still queued — the server's to every exporter, the agents' to
// the endpoint — and stops the pipeline. Call it once the HTTP server and the sessions are
// done, before the local store closes.
func (p *Provider) Shutdown(ctx context.Context) error {
	err := p.tp.Shutdown(ctx)
	if p.agent != nil {
		err = errors.Join(err, p.agent.close(ctx))
	}
	if p.client != nil {
		err = errors.Join(err, p.client.Stop(ctx))
	}
	if err != nil {
		return fmt.Errorf("shut down tracing: %w", err)
	}
	return nil
}

// quietExporter logs export failures itself, at most once a minute, and reports success to
// the batch processor: the SDK would hand them to the global OpenTelemetry error handler,
// which prints to the standard logger.
type quietExporter struct {
	sdktrace.SpanExporter
	log  *slog.Logger
	what string
	lim  failureLog
}

func (e *quietExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if err := e.SpanExporter.ExportSpans(ctx, spans); err != nil {
		e.lim.warn(ctx, e.log, "export "+e.what+" over OTLP", len(spans), err)
	}
	return nil
}

// failureLog rate-limits warnings about failed exports.
type failureLog struct {
	mu      sync.Mutex
	last    time.Time
	dropped int
}

func (f *failureLog) warn(ctx context.Context, log *slog.Logger, msg string, spans int, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dropped += spans
	if now := time.Now(); now.Sub(f.last) >= time.Minute {
		log.WarnContext(ctx, msg, "lost_spans", f.dropped, "err", err)
		f.last, f.dropped = now, 0
	}
}
