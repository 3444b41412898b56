package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// The "trace" op makes the agent emit spans the way an instrumented agent framework does:
// with the OpenTelemetry SDK and its OTLP/HTTP exporter, configured only by the environment
// (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES). The request's
// traceparent, tracestate and baggage are the parent of a span "invoke_agent testagent"
// with a child "chat testmodel" (GenAI semantic conventions); both are exported and flushed
// before the agent answers {"trace_id", "span_id" (of invoke_agent), "parent_span_id" (what
// the request named), "endpoint", "export_error"}.

var (
	tracerOnce sync.Once
	tracer     *sdktrace.TracerProvider
	tracerErr  error

	exportMu  sync.Mutex
	exportErr error // the last export failure the SDK reported
)

func tracerProvider() (*sdktrace.TracerProvider, error) {
	tracerOnce.Do(func() {
		otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
			exportMu.Lock()
			exportErr = err
			exportMu.Unlock()
		}))
		exp, err := otlptracehttp.New(context.Background())
		if err != nil {
			tracerErr = err
			return
		}
		tracer = sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithResource(resource.Default()))
	})
	return tracer, tracerErr
}

func traceOp(w http.ResponseWriter, r *http.Request) {
	tp, err := tracerProvider()
	if err != nil {
		http.Error(w, "tracer: "+err.Error(), http.StatusInternalServerError)
		return
	}
	prop := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	ctx := prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	parent := trace.SpanContextFromContext(ctx)
	exportMu.Lock()
	exportErr = nil
	exportMu.Unlock()

	tr := tp.Tracer("berth.dev/berth/test/agent")
	ctx, agentSpan := tr.Start(ctx, "invoke_agent testagent", trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(attribute.String("gen_ai.operation.name", "invoke_agent"), attribute.String("gen_ai.agent.name", "testagent")))
	_, chat := tr.Start(ctx, "chat testmodel", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("gen_ai.operation.name", "chat"), attribute.String("gen_ai.request.model", "testmodel"),
			attribute.Int("gen_ai.usage.input_tokens", 12), attribute.Int("gen_ai.usage.output_tokens", 34)))
	time.Sleep(2 * time.Millisecond) // a measurable duration
	chat.End()
	agentSpan.End()
	fctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	flushErr := tp.ForceFlush(fctx)
	exportMu.Lock()
	flushErr = errors.Join(flushErr, exportErr)
	exportMu.Unlock()
	out := map[string]any{
		"trace_id": agentSpan.SpanContext().TraceID().String(),
		"span_id":  agentSpan.SpanContext().SpanID().String(),
		"endpoint": os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT"),
	}
	if parent.IsValid() {
		out["parent_span_id"] = parent.SpanID().String()
	}
	if flushErr != nil {
		out["export_error"] = flushErr.Error()
	}
	_ = json.NewEncoder(w).Encode(out)
}
