package session

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/store"
)

func TestManager_Acquire_KeysAndReuse(t *testing.T) {
	h := newHarness(t, nil)
	resolve := h.target(nil)
	a1 := h.acquire(key("a"), resolve)
	b := h.acquire(key("b"), resolve)
	if a1.RecordID() == b.RecordID() || a1.Sandbox().ID() == b.Sandbox().ID() {
		t.Fatalf("two keys share a session: %s/%s", a1.RecordID(), b.RecordID())
	}
	if got := []int{count(t, a1), count(t, a1), count(t, b)}; !cmp.Equal(got, []int{1, 2, 1}) {
		t.Fatalf("counters %v, want [1 2 1]", got)
	}
	a1.Release()
	a2 := h.acquire(key("a"), resolve)
	if a2.RecordID() != a1.RecordID() || a2.Sandbox() != a1.Sandbox() {
		t.Fatalf("same key got record %s, want %s", a2.RecordID(), a1.RecordID())
	}
	if n := count(t, a2); n != 3 {
		t.Fatalf("counter %d after reuse, want 3", n)
	}
	if n := h.drv.starts.Load(); n != 2 {
		t.Fatalf("%d sandbox starts, want 2", n)
	}
	if a2.Version() != 1 || a2.Port() != 8080 {
		t.Fatalf("version %d port %d", a2.Version(), a2.Port())
	}
	rec := h.record(a2.RecordID())
	want := store.SessionRecord{
		ID: a2.RecordID(), RuntimeID: testRuntime, Endpoint: "DEFAULT", SessionID: key("a").SessionID,
		Version: 1, State: store.SessionActive, Driver: h.drv.Name(), SandboxID: a2.Sandbox().ID(),
	}
	got := rec
	got.SandboxState, got.CPUTime, got.MemoryPeakBytes = nil, 0, 0
	got.StartedAt, got.LastActivityAt = got.StartedAt.UTC(), got.LastActivityAt.UTC()
	want.StartedAt, want.LastActivityAt = h.clock.Now(), h.clock.Now()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("record (-want +got):\n%s", diff)
	}
	if len(rec.SandboxState) == 0 {
		t.Fatal("record has no sandbox state")
	}
	a2.Release()
	a2.Release() // idempotent
	b.Release()
}

func TestManager_Acquire_ConcurrentFirstCallsStartOnce(t *testing.T) {
	h := newHarness(t, nil)
	resolve := h.target(nil, "TESTAGENT_START=sleep=200ms")
	const n = 50
	var (
		wg     sync.WaitGroup
		leases [n]*Lease
		errs   [n]error
	)
	for i := range n {
		wg.Go(func() { leases[i], errs[i] = h.m.Acquire(t.Context(), key("same"), resolve) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("acquire %d: %v", i, errs[i])
		}
		if leases[i].RecordID() != leases[0].RecordID() {
			t.Fatalf("acquire %d got record %s, want %s", i, leases[i].RecordID(), leases[0].RecordID())
		}
	}
	if got := h.drv.starts.Load(); got != 1 {
		t.Fatalf("%d sandbox starts for one key, want 1", got)
	}
	if got := len(h.records(key("same").SessionID)); got != 1 {
		t.Fatalf("%d records, want 1", got)
	}
	if got := count(t, leases[7]); got != 1 {
		t.Fatalf("counter %d, want 1", got)
	}
	for _, l := range leases {
		l.Release()
	}
}

func TestManager_Acquire_ResolveErrorReturnedAsIs(t *testing.T) {
	h := newHarness(t, nil)
	want := errors.New("no such runtime")
	_, err := h.m.Acquire(t.Context(), key("r"), func(context.Context) (Target, error) { return Target{}, want })
	if !errors.Is(err, want) || err.Error() != want.Error() {
		t.Fatalf("err %v, want %v as is", err, want)
	}
	if recs := h.records(key("r").SessionID); len(recs) != 0 {
		t.Fatalf("%d records after a failed resolve, want 0", len(recs))
	}
	// The key is free again.
	l := h.acquire(key("r"), h.target(nil))
	l.Release()
}

func TestManager_Acquire_MaxSessions(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.MaxSessions = 2 })
	resolve := h.target(nil)
	a := h.acquire(key("a"), resolve)
	b := h.acquire(key("b"), resolve)
	_, err := h.m.Acquire(t.Context(), key("c"), resolve)
	if !errors.Is(err, errdefs.ErrQuotaExceeded) {
		t.Fatalf("third session: %v, want ErrQuotaExceeded", err)
	}
	// An existing session is still reachable at the limit.
	a2 := h.acquire(key("a"), resolve)
	a2.Release()
	a.Release()
	if err := h.m.Stop(t.Context(), key("a")); err != nil {
		t.Fatal(err)
	}
	c := h.acquire(key("c"), resolve)
	c.Release()
	b.Release()
}

func TestManager_Acquire_NotStartedOrClosed(t *testing.T) {
	h := newHarness(t, nil)
	m, err := New(Options{Driver: h.drv, Store: h.st})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Acquire(t.Context(), key("x"), h.target(nil)); !errors.Is(err, errdefs.ErrUnavailable) {
		t.Fatalf("acquire before Start: %v, want ErrUnavailable", err)
	}
	if err := m.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := h.m.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := h.m.Acquire(t.Context(), key("x"), h.target(nil)); !errors.Is(err, errdefs.ErrUnavailable) {
		t.Fatalf("acquire after Close: %v, want ErrUnavailable", err)
	}
}

func TestNew_Validates(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"no driver", Options{Store: nil}},
		{"negative max", Options{Driver: newFakeDriver(), MaxSessions: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.opts); err == nil {
				t.Fatal("New accepted bad options")
			}
		})
	}
}
