// Package agentotlp gives every agent an OTLP/HTTP endpoint of its own: Berth listens on
// 127.0.0.1:4318 inside each sandbox's network namespace and sets
// OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 (and OTEL_EXPORTER_OTLP_PROTOCOL=
// http/protobuf) for the agent, unless its environment already sets them. The agent's
// OpenTelemetry SDK (ADOT, opentelemetry-instrument, or any OTLP/HTTP exporter) then sends
// its spans — the GenAI spans of agent frameworks included — to Berth without any
// configuration.
//
// The endpoint takes POST /v1/traces, /v1/logs and /v1/metrics, as binary protobuf or OTLP
// JSON, gzipped or not (16 MiB at most). Spans are stamped with the sandbox's runtime,
// version, endpoint and session — resource attributes berth.runtime.id,
// berth.runtime.version, berth.endpoint and session.id, plus session.id on every span
// (AgentCore's convention) — replacing any the agent set itself; then they are kept in the
// local trace store (internal/telemetry/tracestore, source "agent") and queued for the OTLP
// exporter of the server's own spans (internal/telemetry/tracing), in the same trace as the
// server's spans when the agent continued the traceparent Berth sent it. Logs are stamped
// the same way and handed to Receiver.Logs, a LogSink, if one is set, else dropped. Metrics
// are accepted and dropped.
//
// Wrap adds the endpoint to a sandbox driver: every sandbox it starts gets its own listener,
// closed when the sandbox stops. Drivers whose sandboxes implement sandbox.Listener have it
// — process, linuxns and gvisor (whose sentry uses the host network stack of the sandbox's
// namespace), and microvm when the server has its egress manager (root): berth-guest
// relays the agent's 127.0.0.1:4318 to the listener in the namespace QEMU runs in. Without
// one, microvm agents get no endpoint and no OTEL_EXPORTER_OTLP_ENDPOINT.
package agentotlp

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"berth.dev/berth/internal/telemetry/tracestore"
)

// SpanStore keeps agent spans (the trace store).
type SpanStore interface {
	Add(ctx context.Context, spans []tracestore.Span) error
}

// SpanExporter sends agent spans on to the OTLP endpoint (tracing.Provider). It must not
// block.
type SpanExporter interface {
	ExportAgentSpans(rs []*tracepb.ResourceSpans)
}

// LogSink takes the OTLP logs agents send, for the session logs to keep and export. The
// request's resources already carry the sandbox's labels as attributes; labels repeats
// them. AgentLogs runs in the agent's export request: it should not block for long, and an
// error it returns is answered with 500 (the agent's SDK may retry).
type LogSink interface {
	AgentLogs(ctx context.Context, sandboxID string, labels Labels, logs *collogspb.ExportLogsServiceRequest) error
}

// Receiver serves the agents' OTLP requests. The zero value drops everything; set the
// fields before Wrap or Handler and do not change them after.
type Receiver struct {
	Store  SpanStore    // keeps spans; nil keeps none
	Export SpanExporter // sends spans on; nil sends none
	Logs   LogSink      // takes logs; nil drops them
	// Labels says what sandboxID serves now; false stamps nothing (a pooled sandbox no
	// session has taken yet). Nil stamps nothing.
	Labels func(sandboxID string) (Labels, bool)
	Logger *slog.Logger // nil discards
}

// Handler serves the OTLP endpoint of sandbox sandboxID.
func (rc *Receiver) Handler(sandboxID string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", func(w http.ResponseWriter, r *http.Request) { rc.traces(w, r, sandboxID) })
	mux.HandleFunc("POST /v1/logs", func(w http.ResponseWriter, r *http.Request) { rc.logs(w, r, sandboxID) })
	mux.HandleFunc("POST /v1/metrics", func(w http.ResponseWriter, r *http.Request) { rc.metrics(w, r) })
	return mux
}

func (rc *Receiver) logger() *slog.Logger {
	if rc.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return rc.Logger
}

func (rc *Receiver) labels(sandboxID string) Labels {
	if rc.Labels == nil {
		return Labels{}
	}
	l, _ := rc.Labels(sandboxID)
	return l
}

func (rc *Receiver) traces(w http.ResponseWriter, r *http.Request, sandboxID string) {
	var req coltracepb.ExportTraceServiceRequest
	enc, err := decodeRequest(r, &req)
	if err != nil {
		badRequest(w, err)
		return
	}
	l := rc.labels(sandboxID)
	stampTraces(req.ResourceSpans, l)
	if rc.Store != nil {
		if err := rc.Store.Add(r.Context(), storeSpans(req.ResourceSpans)); err != nil {
			rc.logger().WarnContext(r.Context(), "keep agent spans", "sandbox", sandboxID, "session", l.SessionID, "err", err)
		}
	}
	if rc.Export != nil {
		rc.Export.ExportAgentSpans(req.ResourceSpans)
	}
	writeResponse(w, enc, &coltracepb.ExportTraceServiceResponse{})
}

func (rc *Receiver) logs(w http.ResponseWriter, r *http.Request, sandboxID string) {
	var req collogspb.ExportLogsServiceRequest
	enc, err := decodeRequest(r, &req)
	if err != nil {
		badRequest(w, err)
		return
	}
	if rc.Logs != nil {
		l := rc.labels(sandboxID)
		for _, rl := range req.ResourceLogs {
			rl.Resource = stampResource(rl.Resource, l)
		}
		if err := rc.Logs.AgentLogs(r.Context(), sandboxID, l, &req); err != nil {
			rc.logger().WarnContext(r.Context(), "take agent logs", "sandbox", sandboxID, "session", l.SessionID, "err", err)
			http.Error(w, "logs not taken", http.StatusInternalServerError)
			return
		}
	}
	writeResponse(w, enc, &collogspb.ExportLogsServiceResponse{})
}

func (rc *Receiver) metrics(w http.ResponseWriter, r *http.Request) {
	var req colmetricspb.ExportMetricsServiceRequest
	enc, err := decodeRequest(r, &req)
	if err != nil {
		badRequest(w, err)
		return
	}
	writeResponse(w, enc, &colmetricspb.ExportMetricsServiceResponse{})
}

func badRequest(w http.ResponseWriter, err error) {
	status := http.StatusBadRequest
	if errors.Is(err, errUnsupportedType) {
		status = http.StatusUnsupportedMediaType
	}
	http.Error(w, err.Error(), status)
}
