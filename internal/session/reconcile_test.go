package session

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/store"
)

// TestManager_Start_ReconcilesLeftovers plays a crashed server: records left live, one of
// them pointing at a sandbox that is still running, then a new manager starts.
func TestManager_Start_ReconcilesLeftovers(t *testing.T) {
	h := newHarness(t, nil)
	ctx := t.Context()
	spec := testSpec(t)
	spec.ID = "01900000-0000-7000-8000-000000000001"
	sb, err := h.drv.Driver.Start(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Stop(context.Background()) })
	waitAnswering(t, sb, 8080)

	started := h.clock.Now().Add(-time.Hour)
	left := []store.SessionRecord{
		{ID: spec.ID, State: store.SessionActive, Driver: h.drv.Name(), SandboxID: sb.ID(), SandboxState: sb.State()},
		{ID: "01900000-0000-7000-8000-000000000002", State: store.SessionStarting, Driver: h.drv.Name()},
		{ID: "01900000-0000-7000-8000-000000000003", State: store.SessionTerminated, Driver: h.drv.Name(),
			EndReason: ReasonStopped, EndedAt: started.Add(time.Minute)},
	}
	for i := range left {
		left[i].RuntimeID, left[i].Endpoint, left[i].SessionID = testRuntime, "DEFAULT", key("left").SessionID
		left[i].Version, left[i].StartedAt, left[i].LastActivityAt = 1, started, started
		if err := h.st.Update(ctx, func(tx store.Tx) error { return tx.Sessions().CreateSession(ctx, left[i]) }); err != nil {
			t.Fatal(err)
		}
	}

	m2 := h.newManager(Options{Driver: h.drv, Store: h.st, Logger: testLogger(t), Now: h.clock.Now})
	t.Cleanup(func() {
		if err := m2.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	select {
	case <-sb.Done():
	case <-time.After(waitLimit):
		t.Fatal("the leftover sandbox is still running after Start")
	}
	if h.stateDir != "" {
		if _, err := os.Stat(filepath.Join(h.stateDir, spec.ID)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("the leftover sandbox was not wiped (%v)", err)
		}
	}
	for _, want := range left[:2] {
		rec := h.record(want.ID)
		if rec.State != store.SessionTerminated || rec.EndReason != ReasonServerRestart || !rec.EndedAt.Equal(h.clock.Now()) {
			t.Errorf("record %s: %s/%s ended %v, want terminated/%s", rec.ID, rec.State, rec.EndReason, rec.EndedAt, ReasonServerRestart)
		}
	}
	if rec := h.record(left[2].ID); rec.EndReason != ReasonStopped || !rec.EndedAt.Equal(left[2].EndedAt) {
		t.Errorf("an ended record was touched: %+v", rec)
	}
	// The key works on the new manager.
	l, err := m2.Acquire(ctx, key("left"), h.target(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	if n := count(t, l); n != 1 {
		t.Fatalf("counter %d, want 1", n)
	}
}

// waitAnswering waits until the agent in sb answers GET /ping on port.
func waitAnswering(t *testing.T, sb sandbox.Sandbox, port int) {
	t.Helper()
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return sb.DialContext(ctx, "tcp", port)
	}}
	defer tr.CloseIdleConnections()
	client := newClient(tr)
	deadline := time.Now().Add(waitLimit)
	for {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		_, err := ping(ctx, client)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("agent never answered: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
