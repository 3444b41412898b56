// Package logexport connects session logs and OpenTelemetry logs. Exporter is a
// sessionlog.Exporter sending them over OTLP/HTTP, built on the OpenTelemetry log SDK's
// batch processor and its otlploghttp exporter; FromOTLP turns the OTLP logs an agent sends
// into session log lines. Every line an agent writes becomes one log record:
//
//	body                    the line
//	timestamp               when the line's first byte arrived
//	session.id              the runtime session id (AgentCore's attribute)
//	berth.session.record_id the session record id (GET /berth/v1/sessions/{id})
//	berth.runtime.id, berth.runtime.version, berth.endpoint
//	log.iostream            stdout or stderr; output when the two came as one (a pooled
//	                        sandbox), berth for Berth's own notices, otel for records the
//	                        agent sent over OTLP
//	berth.log.partial       true when the line did not end there (see sessionlog)
//
// The severity is left unset: the stream says nothing about it (Python's logging writes
// every level to stderr), and guessing ERROR for stderr would flood alerts. The resource
// names the service "berth". Records are batched and sent in the background; when the
// queue is full (the receiver is down or slow) records are dropped rather than holding up
// the agent's output.
package logexport

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"berth.dev/berth/internal/sessionlog"
	"berth.dev/berth/internal/telemetry"
)

// Options configure an Exporter.
type Options struct {
	// Endpoint is the receiver's base URL (telemetry.otlpEndpoint); records go to
	// {Endpoint}/v1/logs.
	Endpoint string
	// Headers go with every export, as key=value (telemetry.otlpHeaders).
	Headers []string
	// ServiceVersion is the resource's service.version (Berth's version); "" leaves it out.
	ServiceVersion string
	// ExportInterval is the longest a record waits in the batch; 0 means the SDK's 1 s.
	ExportInterval time.Duration
}

// Exporter sends session log records to an OTLP/HTTP receiver.
type Exporter struct {
	provider *sdklog.LoggerProvider
	logger   log.Logger
}

var _ sessionlog.Exporter = (*Exporter)(nil)

// New returns an Exporter for opts. It connects lazily: an unreachable receiver is not an
// error here (exports fail in the background and their records are dropped).
func New(ctx context.Context, opts Options) (*Exporter, error) {
	headers, err := telemetry.OTLPHeaders(opts.Headers)
	if err != nil {
		return nil, err
	}
	exp, err := otlploghttp.New(ctx,
		otlploghttp.WithEndpointURL(telemetry.OTLPURL(opts.Endpoint, "logs")),
		otlploghttp.WithHeaders(headers))
	if err != nil {
		return nil, fmt.Errorf("otlp log exporter: %w", err)
	}
	var batch []sdklog.BatchProcessorOption
	if opts.ExportInterval > 0 {
		batch = append(batch, sdklog.WithExportInterval(opts.ExportInterval))
	}
	attrs := []attribute.KeyValue{semconv.ServiceName("berth")}
	if opts.ServiceVersion != "" {
		attrs = append(attrs, semconv.ServiceVersion(opts.ServiceVersion))
	}
	res := resource.NewWithAttributes(semconv.SchemaURL, attrs...)
	p := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(sdklog.NewBatchProcessor(exp, batch...)))
	return &Exporter{provider: p, logger: p.Logger("berth.dev/berth/internal/sessionlog")}, nil
}

// Export implements sessionlog.Exporter.
func (e *Exporter) Export(src sessionlog.Source, recs []sessionlog.Record) {
	ctx := context.Background()
	now := time.Now()
	for _, r := range recs {
		var lr log.Record
		lr.SetTimestamp(r.Time)
		lr.SetObservedTimestamp(now)
		lr.SetBody(attribute.StringValue(r.Line))
		lr.AddAttributes(
			attribute.String("session.id", src.SessionID),
			attribute.String("berth.session.record_id", src.RecordID),
			attribute.String("berth.runtime.id", src.RuntimeID),
			attribute.String("berth.runtime.version", src.RuntimeVersion),
			attribute.String("berth.endpoint", src.Endpoint),
			semconv.LogIostreamKey.String(r.Stream),
		)
		if r.Partial {
			lr.AddAttributes(attribute.Bool("berth.log.partial", true))
		}
		e.logger.Emit(ctx, lr)
	}
}

// Shutdown sends what is queued (within ctx) and stops the exporter.
func (e *Exporter) Shutdown(ctx context.Context) error {
	if err := e.provider.Shutdown(ctx); err != nil {
		return fmt.Errorf("otlp log exporter: %w", err)
	}
	return nil
}
