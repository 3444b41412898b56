package session

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/store"
)

func TestManager_Acquire_AgentExitsAtStart(t *testing.T) {
	h := newHarness(t, nil)
	_, err := h.m.Acquire(t.Context(), key("exit"), h.target(nil, "TESTAGENT_START=exit"))
	if !errors.Is(err, errdefs.ErrRuntimeClient) {
		t.Fatalf("err %v, want ErrRuntimeClient", err)
	}
	recs := h.records(key("exit").SessionID)
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1", len(recs))
	}
	rec := recs[0]
	logPath := h.logDir + "/" + rec.ID + ".log"
	for _, want := range []string{"agent exited during start-up: exit status 3", "see " + logPath, "exiting at start as asked"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if rec.State != store.SessionTerminated || rec.EndReason != ReasonStartFailed || rec.EndedAt.IsZero() {
		t.Fatalf("record %s/%s ended %v, want terminated/%s", rec.State, rec.EndReason, rec.EndedAt, ReasonStartFailed)
	}
	h.assertNoSandboxLeft()
}

func TestManager_Acquire_NeverHealthy(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.InitTimeout = 500 * time.Millisecond })
	resolve := h.target(nil, "TESTAGENT_START=unhealthy")
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() { _, errs[i] = h.m.Acquire(t.Context(), key("sick"), resolve) })
	}
	wg.Wait()
	const msg = "Runtime initialization time exceeded. Please make sure that initialization completes in 0.5s."
	for _, err := range errs {
		if !errors.Is(err, errdefs.ErrRuntimeClient) || err.Error() != errdefs.ErrRuntimeClient.Error()+": "+msg {
			t.Fatalf("err %v, want ErrRuntimeClient %q", err, msg)
		}
	}
	if n := h.drv.starts.Load(); n != 1 {
		t.Fatalf("%d starts, want 1", n)
	}
	recs := h.records(key("sick").SessionID)
	if len(recs) != 1 || recs[0].EndReason != ReasonStartFailed {
		t.Fatalf("records %+v, want one ended %s", recs, ReasonStartFailed)
	}
	h.assertNoSandboxLeft()
}

func TestInitTimeoutErr_FollowsConfig(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{60 * time.Second, "completes in 60s."},
		{90 * time.Second, "completes in 90s."},
		{1500 * time.Millisecond, "completes in 1.5s."},
	}
	for _, tt := range tests {
		t.Run(tt.d.String(), func(t *testing.T) {
			if got := initTimeoutErr(tt.d).Error(); !strings.HasSuffix(got, tt.want) {
				t.Fatalf("%q does not end with %q", got, tt.want)
			}
		})
	}
}

func TestManager_Stop_DuringStart(t *testing.T) {
	h := newHarness(t, nil)
	done := make(chan error, 1)
	go func() {
		_, err := h.m.Acquire(t.Context(), key("slow"), h.target(nil, "TESTAGENT_START=sleep=1h"))
		done <- err
	}()
	deadline := time.Now().Add(waitLimit)
	for h.drv.starts.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("sandbox never started")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := h.m.Stop(t.Context(), key("slow")); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, errdefs.ErrConflict) {
		t.Fatalf("acquire: %v, want ErrConflict", err)
	}
	recs := h.records(key("slow").SessionID)
	if len(recs) != 1 || recs[0].EndReason != ReasonStopped {
		t.Fatalf("records %+v, want one ended %s", recs, ReasonStopped)
	}
	h.assertNoSandboxLeft()
}

func TestManager_Acquire_CallerGivesUpOthersStillServed(t *testing.T) {
	h := newHarness(t, nil)
	resolve := h.target(nil, "TESTAGENT_START=sleep=300ms")
	ctx, cancel := context.WithCancel(t.Context())
	first := make(chan error, 1)
	go func() {
		_, err := h.m.Acquire(ctx, key("giveup"), resolve)
		first <- err
	}()
	for h.drv.starts.Load() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled acquire: %v", err)
	}
	l := h.acquire(key("giveup"), resolve)
	defer l.Release()
	if n := h.drv.starts.Load(); n != 1 {
		t.Fatalf("%d starts, want 1", n)
	}
	if count(t, l) != 1 {
		t.Fatal("unexpected counter")
	}
}
