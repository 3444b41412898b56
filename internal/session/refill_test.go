package session

import (
	"testing"
	"time"

	"berth.dev/berth/internal/catalog"
)

// TestManager_PoolHit_RefillWaitsForTheFirstRequest: the sandbox that replaces a taken one
// starts only once the session's first request is released, not while it runs.
func TestManager_PoolHit_RefillWaitsForTheFirstRequest(t *testing.T) {
	h := newHarness(t, withPools(1))
	h.m.refillAfter = time.Hour // only the release may start the refill
	tgt := h.versionTarget(1, 64<<20)
	h.warm(catalog.DefaultEndpoint, tgt)
	h.waitPool("one ready", readyN(1))
	l, err := h.m.Acquire(t.Context(), key("first"), fixed(tgt))
	if err != nil {
		t.Fatal(err)
	}
	if !l.PoolHit() {
		t.Fatal("the session did not take the pooled sandbox")
	}
	invoke(t, l, map[string]any{"op": "incr"})
	if st := h.m.PoolStats(); st.Ready != 0 || st.Starting != 0 || h.drv.starts.Load() != 1 {
		t.Fatalf("while the first request is held: %+v after %d starts; want no refill yet", st, h.drv.starts.Load())
	}
	l.Release()
	h.waitPool("refilled after the release", readyN(1))
	if n := h.drv.starts.Load(); n != 2 {
		t.Errorf("%d sandbox starts, want 2", n)
	}
}

// TestManager_PoolHit_RefillNotHeldByALongRequest: a first request that outlasts the delay
// (a stream) does not keep the pool empty.
func TestManager_PoolHit_RefillNotHeldByALongRequest(t *testing.T) {
	h := newHarness(t, withPools(1))
	h.m.refillAfter = time.Millisecond
	tgt := h.versionTarget(1, 64<<20)
	h.warm(catalog.DefaultEndpoint, tgt)
	h.waitPool("one ready", readyN(1))
	l, err := h.m.Acquire(t.Context(), key("long"), fixed(tgt))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	if !l.PoolHit() {
		t.Fatal("the session did not take the pooled sandbox")
	}
	h.waitPool("refilled while the first request runs", readyN(1))
}
