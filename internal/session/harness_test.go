package session

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/store"
	"berth.dev/berth/internal/store/sqlite"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// waitLimit bounds every wait for something that must happen; reaching it fails the test.
const waitLimit = 20 * time.Second

const testRuntime = "agent_rt-abcdefghij"

// fakeClock is the manager's Now hook: tests move time forward explicitly.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// countingDriver wraps the driver under test: it counts Start calls and remembers every
// sandbox it started.
type countingDriver struct {
	sandbox.Driver
	starts atomic.Int64

	mu        sync.Mutex
	sandboxes []sandbox.Sandbox
}

var _ sandbox.Reclaimer = (*countingDriver)(nil)

func (d *countingDriver) Start(ctx context.Context, spec sandbox.Spec) (sandbox.Sandbox, error) {
	d.starts.Add(1)
	sb, err := d.Driver.Start(ctx, spec)
	if err == nil {
		d.mu.Lock()
		d.sandboxes = append(d.sandboxes, sb)
		d.mu.Unlock()
	}
	return sb, err
}

func (d *countingDriver) Reclaim(ctx context.Context, state json.RawMessage) error {
	r, ok := d.Driver.(sandbox.Reclaimer)
	if !ok {
		return fmt.Errorf("driver %s cannot reclaim", d.Name())
	}
	return r.Reclaim(ctx, state)
}

func (d *countingDriver) started() []sandbox.Sandbox {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]sandbox.Sandbox(nil), d.sandboxes...)
}

type harness struct {
	t      testing.TB
	m      *Manager
	st     store.Store
	drv    *countingDriver
	clock  *fakeClock
	logDir string
	// stateDir is the real driver's state directory, "" on the fake.
	stateDir string

	mu     sync.Mutex
	ticks  map[Key]int
	sweeps int
}

// newHarness starts a manager on a fresh SQLite store and the driver from newTestDriver,
// with a fake clock and fast pings; tweak adjusts the options before New.
func newHarness(t testing.TB, tweak func(*Options)) *harness {
	t.Helper()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "berth.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	drv, stateDir := newTestDriver(t)
	h := &harness{
		t:        t,
		st:       st,
		drv:      &countingDriver{Driver: drv},
		stateDir: stateDir,
		clock:    &fakeClock{t: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)},
		logDir:   filepath.Join(t.TempDir(), "logs"),
		ticks:    map[Key]int{},
	}
	opts := Options{
		Driver:       h.drv,
		Store:        st,
		Logger:       testLogger(t),
		LogDir:       h.logDir,
		PingInterval: 20 * time.Millisecond,
		PingTimeout:  time.Second,
		InitTimeout:  waitLimit,
		Now:          h.clock.Now,
	}
	if tweak != nil {
		tweak(&opts)
	}
	h.m = h.newManager(opts)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		if err := h.m.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	return h
}

// newManager builds and starts a manager wired to the harness's tick counter.
func (h *harness) newManager(opts Options) *Manager {
	h.t.Helper()
	m, err := New(opts)
	if err != nil {
		h.t.Fatal(err)
	}
	m.ticked = func(k Key) {
		h.mu.Lock()
		h.ticks[k]++
		h.mu.Unlock()
	}
	m.swept = func() {
		h.mu.Lock()
		h.sweeps++
		h.mu.Unlock()
	}
	if err := m.Start(h.t.Context()); err != nil {
		h.t.Fatal(err)
	}
	return m
}

// waitTicks waits until the session of key has run n more lifecycle ticks that left it
// running (so every check of those ticks saw the current clock).
func (h *harness) waitTicks(key Key, n int) {
	h.t.Helper()
	h.mu.Lock()
	want := h.ticks[key] + n
	h.mu.Unlock()
	deadline := time.Now().Add(waitLimit)
	for time.Now().Before(deadline) {
		h.mu.Lock()
		got := h.ticks[key]
		h.mu.Unlock()
		if got >= want {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.t.Fatalf("session %s: fewer than %d lifecycle ticks in %v", key.SessionID, n, waitLimit)
}

func key(sid string) Key {
	return Key{RuntimeID: testRuntime, Endpoint: catalog.DefaultEndpoint, SessionID: "session-" + sid + strings.Repeat("0", 33)}
}

// target resolves a READY version 1 running the test agent with extra environment.
func (h *harness) target(lc *catalog.LifecycleConfiguration, env ...string) func(context.Context) (Target, error) {
	spec := testSpec(h.t, env...)
	return func(context.Context) (Target, error) {
		return Target{
			Runtime: catalog.Runtime{ID: testRuntime, Name: "agent_rt", LatestVersion: 1},
			Version: catalog.Version{
				RuntimeID: testRuntime, Number: 1, Status: catalog.StatusReady,
				Config:   catalog.RuntimeConfig{LifecycleConfiguration: lc},
				Prepared: &catalog.PreparedArtifact{Kind: catalog.ArtifactCode, Digest: "sha256:00"},
			},
			Spec: spec,
			Port: 8080,
		}, nil
	}
}

func lifecycle(idle, maxLife int32) *catalog.LifecycleConfiguration {
	return &catalog.LifecycleConfiguration{IdleRuntimeSessionTimeout: &idle, MaxLifetime: &maxLife}
}

func (h *harness) acquire(k Key, resolve func(context.Context) (Target, error)) *Lease {
	h.t.Helper()
	l, err := h.m.Acquire(h.t.Context(), k, resolve)
	if err != nil {
		h.t.Fatalf("acquire %s: %v", k.SessionID, err)
	}
	return l
}

// invoke posts {"op": op, …} to the agent through the lease's transport.
func invoke(t *testing.T, l *Lease, req map[string]any) map[string]any {
	t.Helper()
	body, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	hreq, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://agent/invocations", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Transport: l.Transport()}).Do(hreq)
	if err != nil {
		t.Fatalf("invoke %v: %v", req, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("invoke %v: status %d", req, resp.StatusCode)
	}
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("invoke %v: %v", req, err)
	}
	return out
}

func count(t *testing.T, l *Lease) int {
	t.Helper()
	n, ok := invoke(t, l, map[string]any{"op": "incr"})["count"].(float64)
	if !ok {
		t.Fatal("incr answered without a count")
	}
	return int(n)
}

func (h *harness) record(id string) store.SessionRecord {
	h.t.Helper()
	var rec store.SessionRecord
	err := h.st.View(h.t.Context(), func(tx store.Tx) error {
		var err error
		rec, err = tx.Sessions().GetSession(h.t.Context(), id)
		return err
	})
	if err != nil {
		h.t.Fatalf("get session record %s: %v", id, err)
	}
	return rec
}

func (h *harness) records(sid string) []store.SessionRecord {
	h.t.Helper()
	var recs []store.SessionRecord
	err := h.st.View(h.t.Context(), func(tx store.Tx) error {
		var err error
		recs, err = tx.Sessions().ListSessions(h.t.Context(), store.SessionFilter{SessionID: sid}, "", 0)
		return err
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return recs
}

// waitEnded waits for the lease's session to end and for its record to be closed.
func (h *harness) waitEnded(l *Lease) store.SessionRecord {
	h.t.Helper()
	select {
	case <-l.Done():
	case <-time.After(waitLimit):
		h.t.Fatalf("session %s did not end", l.RecordID())
	}
	select {
	case <-l.s.removed:
	case <-time.After(waitLimit):
		h.t.Fatalf("session %s was not removed", l.RecordID())
	}
	return h.record(l.RecordID())
}

// waitState waits until the record of id is in state.
func (h *harness) waitState(id, state string) store.SessionRecord {
	h.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		rec := h.record(id)
		if rec.State == state {
			return rec
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("record %s: state %s, want %s", id, rec.State, state)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// assertNoSandboxLeft checks that every sandbox the driver started has exited, has no
// process left and was wiped.
func (h *harness) assertNoSandboxLeft() {
	h.t.Helper()
	for _, sb := range h.drv.started() {
		select {
		case <-sb.Done():
		case <-time.After(waitLimit):
			h.t.Errorf("sandbox %s is still running", sb.ID())
			continue
		}
		processGone(h.t, sb)
		if h.stateDir != "" {
			if _, err := os.Stat(filepath.Join(h.stateDir, sb.ID())); !errors.Is(err, os.ErrNotExist) {
				h.t.Errorf("sandbox %s was not wiped (%v)", sb.ID(), err)
			}
		}
	}
}

// testLogger sends the manager's logs to the test log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
