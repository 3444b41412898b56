package session

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/store"
)

func TestManager_Stop(t *testing.T) {
	h := newHarness(t, nil)
	l := h.acquire(key("stop"), h.target(nil))
	count(t, l)
	if n := count(t, l); n != 2 {
		t.Fatalf("counter %d, want 2", n)
	}
	if err := h.m.Stop(t.Context(), key("stop")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-l.Done():
	default:
		t.Fatal("Done open after Stop returned")
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://agent/ping", nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := (&http.Client{Transport: l.Transport()}).Do(req); err == nil {
		_ = resp.Body.Close()
		t.Fatal("the transport of a stopped session still reaches an agent")
	}
	l.Release()
	// The agent's output is kept after the end.
	out, err := os.ReadFile(filepath.Join(h.logDir, l.RecordID()+".log"))
	if err != nil || !strings.Contains(string(out), "testagent listening on 0.0.0.0:8080") {
		t.Fatalf("session log %q (%v) lacks the agent's output", out, err)
	}
	rec := h.record(l.RecordID())
	if rec.State != store.SessionTerminated || rec.EndReason != ReasonStopped {
		t.Fatalf("record %s/%s, want terminated/%s", rec.State, rec.EndReason, ReasonStopped)
	}
	h.assertNoSandboxLeft()
	if err := h.m.Stop(t.Context(), key("stop")); !errors.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("second stop: %v, want ErrNotFound", err)
	}
	l2 := h.acquire(key("stop"), h.target(nil))
	defer l2.Release()
	if n := count(t, l2); n != 1 {
		t.Fatalf("counter %d after stop, want 1 (a fresh sandbox)", n)
	}
	if recs := h.records(key("stop").SessionID); len(recs) != 2 {
		t.Fatalf("%d records, want 2", len(recs))
	}
}

func TestManager_Stop_UnknownKey(t *testing.T) {
	h := newHarness(t, nil)
	if err := h.m.Stop(t.Context(), key("nobody")); !errors.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("err %v, want ErrNotFound", err)
	}
}

func TestManager_StopRuntime(t *testing.T) {
	h := newHarness(t, nil)
	a := h.acquire(key("a"), h.target(nil))
	b := h.acquire(key("b"), h.target(nil))
	other := key("a")
	other.RuntimeID = "other_rt-abcdefghij"
	o := h.acquire(other, h.target(nil))
	h.m.StopRuntime(t.Context(), testRuntime, ReasonRuntimeDeleted)
	for _, l := range []*Lease{a, b} {
		if rec := h.record(l.RecordID()); rec.EndReason != ReasonRuntimeDeleted {
			t.Fatalf("record %s reason %q, want %s", rec.ID, rec.EndReason, ReasonRuntimeDeleted)
		}
		l.Release()
	}
	if rec := h.record(o.RecordID()); rec.State == store.SessionTerminated {
		t.Fatal("another runtime's session was ended")
	}
	count(t, o)
	o.Release()
}

func TestManager_Close_EndsEverything(t *testing.T) {
	h := newHarness(t, nil)
	var leases []*Lease
	for _, sid := range []string{"a", "b", "c"} {
		leases = append(leases, h.acquire(key(sid), h.target(nil)))
	}
	leases[0].Release()
	if err := h.m.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, l := range leases {
		if rec := h.record(l.RecordID()); rec.State != store.SessionTerminated || rec.EndReason != ReasonServerShutdown {
			t.Fatalf("record %s: %s/%s, want terminated/%s", rec.ID, rec.State, rec.EndReason, ReasonServerShutdown)
		}
		l.Release()
	}
	h.assertNoSandboxLeft()
}
