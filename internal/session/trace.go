package session

import (
	"context"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"berth.dev/berth/internal/sandbox"
)

// The manager's spans, children of the request's span (the tracer is found through it: a
// request without a span records nothing):
//
//	AcquireSession     Acquire: session.id, berth.runtime.id, berth.endpoint; once it has a
//	                   lease berth.session.start (cold: this request started a sandbox; warm:
//	                   the session was running, or its sandbox came from a warm pool),
//	                   berth.session.new, berth.pool.hit, berth.sandbox.driver,
//	                   berth.runtime.version, berth.session.record_id and, for a new session,
//	                   berth.session.start_ms (from Acquire to running)
//	  StartSandbox     Driver.Start of a cold start: berth.sandbox.driver, berth.sandbox.id
//	  WaitAgentReady   from the sandbox's start to the agent's first healthy GET /ping
//
// A session is started by the goroutine of the Acquire that created it, with that
// request's context values, so its start spans belong to that request's trace.

const tracerName = "berth.dev/berth/internal/session"

func tracer(ctx context.Context) trace.Tracer {
	return trace.SpanFromContext(ctx).TracerProvider().Tracer(tracerName)
}

// acquireNote, in the context of one Acquire, learns whether it created the session.
type acquireNote struct{ created bool }

type acquireNoteKey struct{}

// noteCreated tells the Acquire whose context ctx is that it created the session.
func noteCreated(ctx context.Context) {
	if n, ok := ctx.Value(acquireNoteKey{}).(*acquireNote); ok {
		n.created = true
	}
}

// acquireSpan is the AcquireSession span of one Acquire.
type acquireSpan struct {
	span   trace.Span
	note   *acquireNote
	begin  time.Time
	driver string
}

// traceAcquire starts Acquire's span; end it with end.
func (m *Manager) traceAcquire(ctx context.Context, key Key) (context.Context, *acquireSpan) {
	note := &acquireNote{}
	ctx = context.WithValue(ctx, acquireNoteKey{}, note)
	ctx, span := tracer(ctx).Start(ctx, "AcquireSession", trace.WithAttributes(
		attribute.String("session.id", key.SessionID),
		attribute.String("berth.runtime.id", key.RuntimeID),
		attribute.String("berth.endpoint", key.Endpoint)))
	return ctx, &acquireSpan{span: span, note: note, begin: time.Now(), driver: m.driver.Name()}
}

// end describes how Acquire ended and ends the span.
func (a *acquireSpan) end(lease *Lease, err error) {
	defer a.span.End()
	if err != nil {
		a.span.RecordError(err)
		a.span.SetStatus(codes.Error, err.Error())
		return
	}
	poolHit := a.note.created && lease.PoolHit()
	start := "warm"
	if a.note.created && !poolHit {
		start = "cold"
	}
	a.span.SetAttributes(
		attribute.String("berth.session.start", start),
		attribute.Bool("berth.session.new", a.note.created),
		attribute.Bool("berth.pool.hit", poolHit),
		attribute.String("berth.sandbox.driver", a.driver),
		attribute.String("berth.runtime.version", strconv.Itoa(lease.Version())),
		attribute.String("berth.session.record_id", lease.RecordID()))
	if a.note.created {
		a.span.SetAttributes(attribute.Float64("berth.session.start_ms", float64(time.Since(a.begin).Microseconds())/1000))
	}
}

// startSandbox is m.driver.Start inside a StartSandbox span.
func (m *Manager) startSandbox(ctx context.Context, spec sandbox.Spec) (sandbox.Sandbox, error) {
	ctx, span := tracer(ctx).Start(ctx, "StartSandbox", trace.WithAttributes(
		attribute.String("berth.sandbox.driver", m.driver.Name()),
		attribute.String("berth.sandbox.id", spec.ID)))
	defer span.End()
	sb, err := m.driver.Start(ctx, spec)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	return sb, err
}

// traceWaitHealthy is waitHealthy inside a WaitAgentReady span.
func (m *Manager) traceWaitHealthy(ctx context.Context, s *session) (string, error) {
	ctx, span := tracer(ctx).Start(ctx, "WaitAgentReady")
	defer span.End()
	status, err := m.waitHealthy(ctx, s)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	return status, err
}

// SandboxSession is the session a sandbox serves.
type SandboxSession struct {
	Key      Key
	Version  int
	RecordID string
}

// SessionOnSandbox returns the running session whose sandbox has id sandboxID. It reports
// false for a sandbox no running session has: a pooled one not yet taken, or one whose
// session is still starting or has failed to.
func (m *Manager) SessionOnSandbox(sandboxID string) (SandboxSession, bool) {
	m.mu.Lock()
	s, ok := m.onSandbox[sandboxID] // indexed once started, removed with the key
	m.mu.Unlock()
	if !ok {
		return SandboxSession{}, false
	}
	return SandboxSession{Key: s.key, Version: s.version, RecordID: s.recordID}, true
}
