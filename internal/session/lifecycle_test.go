package session

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"

	"berth.dev/berth/internal/store"
)

func TestManager_Lifecycle_IdleTimeout(t *testing.T) {
	h := newHarness(t, nil)
	l := h.acquire(key("idle"), h.target(lifecycle(120, 7200)))
	id := l.RecordID()
	count(t, l)
	l.Release()
	h.waitState(id, store.SessionIdle)

	h.clock.Advance(119 * time.Second)
	h.waitTicks(key("idle"), 3)
	select {
	case <-l.Done():
		t.Fatal("session ended before its idle timeout")
	default:
	}
	// A request resets the idle clock.
	l2 := h.acquire(key("idle"), h.target(nil))
	if l2.RecordID() != id {
		t.Fatalf("reacquire started record %s, want %s", l2.RecordID(), id)
	}
	h.waitState(id, store.SessionActive)
	h.clock.Advance(1000 * time.Second) // in flight: no idle timeout
	h.waitTicks(key("idle"), 3)
	l2.Release()
	h.clock.Advance(119 * time.Second)
	h.waitTicks(key("idle"), 3)

	h.clock.Advance(time.Second)
	rec := h.waitEnded(l)
	if rec.State != store.SessionTerminated || rec.EndReason != ReasonIdleTimeout {
		t.Fatalf("record %s/%s, want terminated/%s", rec.State, rec.EndReason, ReasonIdleTimeout)
	}
	if !rec.EndedAt.Equal(h.clock.Now()) {
		t.Fatalf("ended at %v, want %v", rec.EndedAt, h.clock.Now())
	}
	h.assertNoSandboxLeft()
	// The same key starts afresh.
	l3 := h.acquire(key("idle"), h.target(nil))
	defer l3.Release()
	if l3.RecordID() == id || count(t, l3) != 1 {
		t.Fatalf("after idle timeout the key reused record %s or its state", id)
	}
}

func TestManager_Lifecycle_BusyKeepsAliveUntilMaxLifetime(t *testing.T) {
	h := newHarness(t, nil)
	l := h.acquire(key("busy"), h.target(lifecycle(60, 600)))
	invoke(t, l, map[string]any{"op": "busy", "seconds": 300})
	l.Release()
	h.clock.Advance(61 * time.Second)
	h.waitTicks(key("busy"), 3)
	h.clock.Advance(500 * time.Second) // well past idle, still under max lifetime
	h.waitTicks(key("busy"), 3)
	if rec := h.record(l.RecordID()); rec.State != store.SessionActive {
		t.Fatalf("busy session in state %s, want active", rec.State)
	}
	h.clock.Advance(39 * time.Second)
	rec := h.waitEnded(l)
	if rec.EndReason != ReasonMaxLifetime {
		t.Fatalf("end reason %s, want %s", rec.EndReason, ReasonMaxLifetime)
	}
}

func TestManager_Lifecycle_MaxLifetimeWithRequestInFlight(t *testing.T) {
	h := newHarness(t, nil)
	l := h.acquire(key("max"), h.target(lifecycle(60, 300)))
	h.clock.Advance(299 * time.Second)
	h.waitTicks(key("max"), 3)
	h.clock.Advance(time.Second)
	rec := h.waitEnded(l)
	if rec.EndReason != ReasonMaxLifetime || rec.State != store.SessionTerminated {
		t.Fatalf("record %s/%s, want terminated/%s", rec.State, rec.EndReason, ReasonMaxLifetime)
	}
	l.Release() // after the end: harmless
	l.Release()
	h.assertNoSandboxLeft()
}

func TestManager_Lifecycle_DefaultLimits(t *testing.T) {
	h := newHarness(t, nil)
	l := h.acquire(key("defaults"), h.target(nil))
	l.Release()
	h.clock.Advance(899 * time.Second)
	h.waitTicks(key("defaults"), 3)
	h.clock.Advance(time.Second)
	if rec := h.waitEnded(l); rec.EndReason != ReasonIdleTimeout {
		t.Fatalf("end reason %s, want %s", rec.EndReason, ReasonIdleTimeout)
	}
	if s := l.s; s.idleTimeout != 900*time.Second || s.maxLifetime != 28800*time.Second {
		t.Fatalf("limits %v/%v, want 900s/28800s", s.idleTimeout, s.maxLifetime)
	}
}

func TestManager_Lifecycle_AgentExited(t *testing.T) {
	h := newHarness(t, nil)
	l := h.acquire(key("crash"), h.target(nil))
	if n := count(t, l); n != 1 {
		t.Fatalf("counter %d", n)
	}
	crash(t, l)
	rec := h.waitEnded(l)
	if rec.EndReason != ReasonAgentExited {
		t.Fatalf("end reason %s, want %s", rec.EndReason, ReasonAgentExited)
	}
	l.Release()
	l2 := h.acquire(key("crash"), h.target(nil))
	defer l2.Release()
	if l2.RecordID() == l.RecordID() {
		t.Fatal("the crashed session was reused")
	}
	if n := count(t, l2); n != 1 {
		t.Fatalf("counter %d in the fresh session, want 1", n)
	}
}

func TestManager_Lifecycle_Unhealthy(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.PingTimeout = 50 * time.Millisecond; o.UnhealthyAfter = 3 })
	l := h.acquire(key("hang"), h.target(nil))
	l.Release()
	hang(t, l)
	rec := h.waitEnded(l)
	if rec.EndReason != ReasonUnhealthy {
		t.Fatalf("end reason %s, want %s", rec.EndReason, ReasonUnhealthy)
	}
	h.assertNoSandboxLeft()
}

func TestManager_Lifecycle_StatesAndUsageRecorded(t *testing.T) {
	h := newHarness(t, nil)
	l := h.acquire(key("states"), h.target(nil))
	id := l.RecordID()
	if rec := h.waitState(id, store.SessionActive); rec.SandboxID == "" {
		t.Fatal("active record without a sandbox id")
	}
	count(t, l)
	l.Release()
	h.waitState(id, store.SessionIdle)
	l2 := h.acquire(key("states"), h.target(nil))
	h.waitState(id, store.SessionActive)
	l2.Release()
	h.waitState(id, store.SessionIdle)
	burnCPU(t, h.acquire(key("states"), h.target(nil)))
	if err := h.m.Stop(t.Context(), key("states")); err != nil {
		t.Fatal(err)
	}
	rec := h.record(id)
	if rec.State != store.SessionTerminated || rec.EndReason != ReasonStopped || rec.EndedAt.IsZero() {
		t.Fatalf("record %+v", rec)
	}
	if rec.CPUTime <= 0 || rec.MemoryPeakBytes <= 0 {
		t.Fatalf("no usage recorded: cpu %v memory peak %d", rec.CPUTime, rec.MemoryPeakBytes)
	}
}

// burnCPU makes the agent hash 64 MiB (the echo of a non-JSON body), then releases l.
func burnCPU(t *testing.T, l *Lease) {
	t.Helper()
	defer l.Release()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://agent/invocations",
		bytes.NewReader(make([]byte, 64<<20)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := (&http.Client{Transport: l.Transport()}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatal(err)
	}
}
