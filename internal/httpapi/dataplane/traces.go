package dataplane

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/client"
	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/httpapi"
	"berth.dev/berth/internal/telemetry/tracestore"
)

// TraceQuerier reads the kept spans (the trace store).
type TraceQuerier interface {
	Query(ctx context.Context, f tracestore.Filter) ([]tracestore.Span, error)
}

// SpanFlusher hands the spans ended so far to the trace store (tracing.Provider.FlushLocal).
type SpanFlusher interface {
	FlushLocal(ctx context.Context) error
}

// Traces serves GET /berth/v1/traces?session=&runtime=&traceId=&limit=: the spans Berth
// kept (internal/telemetry/tracestore) of the most recent traces that have a span of the
// runtime session id session, of the agent runtime runtime (an id or ARN) and with trace id
// traceId (32 hex digits), newest trace first, each trace's spans by start time, as
// {"spans": [client.Span…]}. limit (1–1000, default 20) counts traces. It is registered on
// the authenticated mux (internal/server/routes.go) and makes no span itself. Spans ended
// before the request are flushed to the store first (fl), so a request just answered shows.
func Traces(q TraceQuerier, fl SpanFlusher, logger *slog.Logger) http.Handler {
	return httpapi.Handle(logger, func(w http.ResponseWriter, r *http.Request) error {
		f, err := parseTraceQuery(r)
		if err != nil {
			return err
		}
		if err := fl.FlushLocal(r.Context()); err != nil {
			logger.WarnContext(r.Context(), "flush spans to the trace store", "err", err)
		}
		spans, err := q.Query(r.Context(), f)
		if err != nil {
			return err
		}
		out := struct {
			Spans []client.Span `json:"spans"`
		}{Spans: make([]client.Span, 0, len(spans))}
		for _, s := range spans {
			out.Spans = append(out.Spans, spanView(s))
		}
		w.Header().Set("Content-Type", "application/json")
		return json.NewEncoder(w).Encode(out)
	})
}

func parseTraceQuery(r *http.Request) (tracestore.Filter, error) {
	q := r.URL.Query()
	var (
		fields errdefs.Fields
		f      tracestore.Filter
	)
	if rt := q.Get("runtime"); rt != "" {
		if strings.HasPrefix(rt, "arn:") {
			arn, err := catalog.ParseARN(rt)
			if err != nil {
				fields.Add("runtime", "Member must be an agent runtime ARN or id: %v", err)
			}
			f.RuntimeID = arn.RuntimeID
		} else {
			if !catalog.ValidRuntimeID(rt) {
				fields.Add("runtime", "Member must be an agent runtime ARN or an agent runtime id")
			}
			f.RuntimeID = rt
		}
	}
	if s := q.Get("session"); s != "" {
		if n := len([]rune(s)); n > 256 {
			fields.Add("session", "Member must have length less than or equal to 256")
		}
		f.SessionID = s
	}
	if id := q.Get("traceId"); id != "" {
		if b, err := hex.DecodeString(id); err != nil || len(b) != 16 {
			fields.Add("traceId", "Member must be 32 hexadecimal digits")
		}
		f.TraceID = strings.ToLower(id)
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > tracestore.MaxTraces {
			fields.Add("limit", "Member must be an integer between 1 and %d", tracestore.MaxTraces)
		}
		f.Limit = n
	}
	return f, fields.Err()
}

// spanView is s as the extension API shows it.
func spanView(s tracestore.Span) client.Span {
	return client.Span{
		TraceID: s.TraceID, SpanID: s.SpanID, ParentSpanID: s.ParentSpanID, Name: s.Name, Kind: s.Kind,
		Start: s.Start.UTC().Format(time.RFC3339Nano), End: s.End.UTC().Format(time.RFC3339Nano),
		Status: s.StatusCode, StatusMessage: s.StatusMessage, Attributes: s.Attributes, Resource: s.Resource,
		Scope: s.Scope, Source: s.Source,
	}
}
