package session

import (
	"context"
	"errors"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"berth.dev/berth/internal/catalog"
)

// traced returns a context holding a request span of a recording provider, and the
// recorder.
func traced(t *testing.T) (context.Context, *tracetest.SpanRecorder, trace.Span) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	ctx, root := tp.Tracer("test").Start(t.Context(), "InvokeAgentRuntime")
	return ctx, rec, root
}

func spanAttrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes() {
		m[kv.Key] = kv.Value
	}
	return m
}

// ended returns the ended spans by name (the last of each name).
func ended(rec *tracetest.SpanRecorder) map[string]sdktrace.ReadOnlySpan {
	out := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range rec.Ended() {
		out[s.Name()] = s
	}
	return out
}

// TestManager_Acquire_Spans: the Acquire that starts a session records a cold
// AcquireSession span with StartSandbox and WaitAgentReady below it, in the request's
// trace; the next Acquire of that session is warm and starts nothing.
func TestManager_Acquire_Spans(t *testing.T) {
	h := newHarness(t, nil)
	ctx, rec, root := traced(t)
	k := key("traced")
	l, err := h.m.Acquire(ctx, k, h.target(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	spans := ended(rec)
	acq, start, wait := spans["AcquireSession"], spans["StartSandbox"], spans["WaitAgentReady"]
	if acq == nil || start == nil || wait == nil {
		t.Fatalf("spans: %v", spans)
	}
	tid := root.SpanContext().TraceID()
	if acq.SpanContext().TraceID() != tid || acq.Parent().SpanID() != root.SpanContext().SpanID() ||
		start.Parent().SpanID() != acq.SpanContext().SpanID() || wait.Parent().SpanID() != acq.SpanContext().SpanID() {
		t.Errorf("span tree: acquire parent %v, start parent %v, wait parent %v", acq.Parent().SpanID(), start.Parent().SpanID(), wait.Parent().SpanID())
	}
	a := spanAttrs(acq)
	if a["berth.session.start"].AsString() != "cold" || !a["berth.session.new"].AsBool() || a["berth.pool.hit"].AsBool() ||
		a["session.id"].AsString() != k.SessionID || a["berth.runtime.id"].AsString() != testRuntime || a["berth.endpoint"].AsString() != catalog.DefaultEndpoint ||
		a["berth.sandbox.driver"].AsString() != h.drv.Name() || a["berth.runtime.version"].AsString() != "1" ||
		a["berth.session.record_id"].AsString() != l.RecordID() || a["berth.session.start_ms"].AsFloat64() <= 0 {
		t.Errorf("AcquireSession attributes = %v", a)
	}
	if sa := spanAttrs(start); sa["berth.sandbox.id"].AsString() != l.Sandbox().ID() || sa["berth.sandbox.driver"].AsString() != h.drv.Name() {
		t.Errorf("StartSandbox attributes = %v", sa)
	}

	// The session runs on its sandbox now.
	got, ok := h.m.SessionOnSandbox(l.Sandbox().ID())
	if !ok || got.Key != k || got.Version != 1 || got.RecordID != l.RecordID() {
		t.Errorf("SessionOnSandbox = %+v, %v", got, ok)
	}
	if _, ok := h.m.SessionOnSandbox("no-such-sandbox"); ok {
		t.Error("SessionOnSandbox found a session on an unknown sandbox")
	}

	ctx2, rec2, _ := traced(t)
	l2, err := h.m.Acquire(ctx2, k, h.target(nil))
	if err != nil {
		t.Fatal(err)
	}
	l2.Release()
	spans = ended(rec2)
	if len(spans) != 1 || spans["AcquireSession"] == nil {
		t.Fatalf("second acquire recorded %v", spans)
	}
	if a := spanAttrs(spans["AcquireSession"]); a["berth.session.start"].AsString() != "warm" || a["berth.session.new"].AsBool() {
		t.Errorf("second AcquireSession attributes = %v", a)
	}

	// Once the session ended, its sandbox serves no one.
	if err := h.m.Stop(t.Context(), k); err != nil {
		t.Fatal(err)
	}
	if got, ok := h.m.SessionOnSandbox(l.Sandbox().ID()); ok {
		t.Errorf("SessionOnSandbox after the session stopped = %+v", got)
	}
}

// TestManager_Acquire_SpanOfPoolHit: a session that takes a pooled sandbox is warm, a pool
// hit, and starts no sandbox in the request's trace; SessionOnSandbox finds it by the
// pooled sandbox's id.
func TestManager_Acquire_SpanOfPoolHit(t *testing.T) {
	h := newHarness(t, withPools(1))
	tgt := h.versionTarget(1, 64<<20)
	h.warm(catalog.DefaultEndpoint, tgt)
	h.waitPool("one ready", readyN(1))
	ctx, rec, _ := traced(t)
	l, err := h.m.Acquire(ctx, key("pooled"), fixed(tgt))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	if !l.PoolHit() {
		t.Fatal("the session did not take the pooled sandbox")
	}
	// The pooled sandbox, started before the session, now serves it.
	if got, ok := h.m.SessionOnSandbox(l.Sandbox().ID()); !ok || got.Key != key("pooled") || got.RecordID != l.RecordID() {
		t.Errorf("SessionOnSandbox(pooled sandbox) = %+v, %v", got, ok)
	}
	spans := ended(rec)
	if spans["StartSandbox"] != nil {
		t.Error("a pool hit recorded StartSandbox")
	}
	a := spanAttrs(spans["AcquireSession"])
	if a["berth.session.start"].AsString() != "warm" || !a["berth.pool.hit"].AsBool() || !a["berth.session.new"].AsBool() {
		t.Errorf("AcquireSession attributes = %v", a)
	}
}

// TestManager_Acquire_SpanOfFailure: a failed Acquire ends its span with the error.
func TestManager_Acquire_SpanOfFailure(t *testing.T) {
	h := newHarness(t, nil)
	ctx, rec, _ := traced(t)
	boom := errors.New("no such version")
	if _, err := h.m.Acquire(ctx, key("fails"), func(context.Context) (Target, error) { return Target{}, boom }); !errors.Is(err, boom) {
		t.Fatalf("Acquire = %v", err)
	}
	acq := ended(rec)["AcquireSession"]
	if acq == nil || acq.Status().Code != codes.Error || acq.Status().Description != boom.Error() {
		t.Fatalf("AcquireSession = %v", acq)
	}
}
