package logexport_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	collogs "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	"google.golang.org/protobuf/proto"

	"berth.dev/berth/internal/sessionlog"
	"berth.dev/berth/internal/sessionlog/logexport"
)

// receiver is an OTLP/HTTP logs receiver decoding with the OTLP protocol's own Go
// bindings (the collector's pdata needs modules go.sum does not have).
type receiver struct {
	mu      sync.Mutex
	got     []*logspb.LogRecord
	res     []map[string]any
	headers []http.Header
}

// raw turns OTLP attributes into a map of Go values.
func raw(kvs []*commonpb.KeyValue) map[string]any {
	out := map[string]any{}
	for _, kv := range kvs {
		switch v := kv.GetValue().GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			out[kv.GetKey()] = v.StringValue
		case *commonpb.AnyValue_BoolValue:
			out[kv.GetKey()] = v.BoolValue
		default:
			out[kv.GetKey()] = fmt.Sprint(v)
		}
	}
	return out
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/otlp/v1/logs" || r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "unexpected "+r.URL.Path+" "+r.Header.Get("Content-Type"), http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req collogs.ExportLogsServiceRequest
	if err := proto.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	for _, rl := range req.GetResourceLogs() {
		for _, sl := range rl.GetScopeLogs() {
			for _, lr := range sl.GetLogRecords() {
				rc.got = append(rc.got, lr)
				rc.res = append(rc.res, raw(rl.GetResource().GetAttributes()))
			}
		}
	}
	rc.headers = append(rc.headers, r.Header.Clone())
	rc.mu.Unlock()
	answer, _ := proto.Marshal(&collogs.ExportLogsServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(answer)
}

func TestExporter_SendsEveryLineWithTheSessionsAttributes(t *testing.T) {
	rc := &receiver{}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	exp, err := logexport.New(t.Context(), logexport.Options{
		Endpoint: srv.URL + "/otlp/", Headers: []string{"x-tenant=acme"}, ServiceVersion: "test",
		ExportInterval: 10 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	l, err := sessionlog.New(sessionlog.Options{Dir: t.TempDir(), Exporter: exp})
	if err != nil {
		t.Fatal(err)
	}
	w, err := l.Open("rec-1", sessionlog.Source{RuntimeID: "hello-abc", RuntimeVersion: "3", Endpoint: "DEFAULT", SessionID: "s-123"})
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	fmt.Fprintln(w.Stream(sessionlog.StreamStdout), "hello from stdout")
	fmt.Fprintln(w.Stream(sessionlog.StreamStderr), "warning on stderr")
	fmt.Fprint(w.Stream(sessionlog.StreamStdout), "prompt> ")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := exp.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}

	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.got) != 3 {
		t.Fatalf("received %d records, want 3", len(rc.got))
	}
	for i, want := range []struct {
		body, stream string
		partial      bool
	}{{"hello from stdout", "stdout", false}, {"warning on stderr", "stderr", false}, {"prompt> ", "stdout", true}} {
		r := rc.got[i]
		attrs := raw(r.GetAttributes())
		wantAttrs := map[string]any{
			"session.id": "s-123", "berth.session.record_id": "rec-1", "berth.runtime.id": "hello-abc",
			"berth.runtime.version": "3", "berth.endpoint": "DEFAULT", "log.iostream": want.stream,
		}
		if want.partial {
			wantAttrs["berth.log.partial"] = true
		}
		if fmt.Sprint(attrs) != fmt.Sprint(wantAttrs) {
			t.Errorf("record %d attributes %v, want %v", i, attrs, wantAttrs)
		}
		if body := r.GetBody().GetStringValue(); body != want.body {
			t.Errorf("record %d body %q, want %q", i, body, want.body)
		}
		if ts := time.Unix(0, int64(r.GetTimeUnixNano())); ts.Before(before.Add(-time.Second)) || ts.After(time.Now()) {
			t.Errorf("record %d timestamp %v, not when it was written", i, ts)
		}
		if r.GetSeverityNumber() != logspb.SeverityNumber_SEVERITY_NUMBER_UNSPECIFIED {
			t.Errorf("record %d severity %v, want unset", i, r.GetSeverityNumber())
		}
		if rc.res[i]["service.name"] != "berth" {
			t.Errorf("record %d resource %v, want service.name berth", i, rc.res[i])
		}
	}
	for _, h := range rc.headers {
		if h.Get("X-Tenant") != "acme" {
			t.Errorf("export without the configured header: %v", h)
		}
	}
}
