package session

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/store"
)

const prodEndpoint = "prod"

// withPools turns the warm pools on with size n; more adjust further options.
func withPools(n int, more ...func(*Options)) func(*Options) {
	return func(o *Options) {
		o.PoolSize = n
		for _, f := range more {
			f(o)
		}
	}
}

// versionTarget is h.target(nil)'s target as version n with a memory limit.
func (h *harness) versionTarget(n int, memory int64) Target {
	h.t.Helper()
	tgt, err := h.target(nil)(h.t.Context())
	if err != nil {
		h.t.Fatal(err)
	}
	tgt.Runtime.LatestVersion, tgt.Version.Number = n, n
	tgt.Spec.Limits.MemoryBytes = memory
	return tgt
}

func fixed(tgt Target) func(context.Context) (Target, error) {
	return func(context.Context) (Target, error) { return tgt, nil }
}

func (h *harness) warm(endpoint string, tgt Target) {
	h.t.Helper()
	if err := h.m.Warm(endpoint, tgt); err != nil {
		h.t.Fatalf("warm %s: %v", endpoint, err)
	}
}

// waitPool waits until the pool stats satisfy ok.
func (h *harness) waitPool(what string, ok func(PoolStats) bool) PoolStats {
	h.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		st := h.m.PoolStats()
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("pools never reached %s: %+v", what, st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func readyN(n int) func(PoolStats) bool {
	return func(st PoolStats) bool { return st.Ready == n && st.Starting == 0 }
}

// waitSweeps waits until the pool sweeper has run n more times (so every sweep of those saw
// the current clock).
func (h *harness) waitSweeps(n int) {
	h.t.Helper()
	h.mu.Lock()
	want := h.sweeps + n
	h.mu.Unlock()
	deadline := time.Now().Add(waitLimit)
	for time.Now().Before(deadline) {
		h.mu.Lock()
		got := h.sweeps
		h.mu.Unlock()
		if got >= want {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.t.Fatalf("fewer than %d pool sweeps in %v", n, waitLimit)
}

// pooledOf returns the ready sandboxes of endpoint's pool.
func (h *harness) pooledOf(endpoint string) []*pooled {
	h.m.mu.Lock()
	defer h.m.mu.Unlock()
	p := h.m.pools.pools[endpointKey{testRuntime, endpoint}]
	if p == nil {
		return nil
	}
	return append([]*pooled(nil), p.ready...)
}

// pooledRecords returns the store's pooled sandbox records.
func (h *harness) pooledRecords() []store.PooledSandbox {
	h.t.Helper()
	var recs []store.PooledSandbox
	err := h.st.View(h.t.Context(), func(tx store.Tx) error {
		var err error
		recs, err = tx.Sessions().ListPooledSandboxes(h.t.Context())
		return err
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return recs
}

// waitPooledRecords waits until the store holds exactly the pooled records of ids.
func (h *harness) waitPooledRecords(ids ...string) {
	h.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		recs := h.pooledRecords()
		got := make([]string, 0, len(recs))
		for _, r := range recs {
			got = append(got, r.ID)
		}
		if strings.Join(got, ",") == strings.Join(ids, ",") {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("pooled records %v, want %v", got, ids)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitGone waits until sb was stopped: it has exited, was wiped and has no process left
// (Stop reaps before it wipes).
func (h *harness) waitGone(sb sandbox.Sandbox) {
	h.t.Helper()
	h.waitWiped(sb)
	processGone(h.t, sb)
}

// waitWiped waits until sb has exited and its directory is gone (as after Stop or Reclaim).
func (h *harness) waitWiped(sb sandbox.Sandbox) {
	h.t.Helper()
	select {
	case <-sb.Done():
	case <-time.After(waitLimit):
		h.t.Fatalf("sandbox %s is still running", sb.ID())
	}
	if h.stateDir == "" {
		return
	}
	deadline := time.Now().Add(waitLimit)
	for {
		_, err := os.Stat(filepath.Join(h.stateDir, sb.ID()))
		if errors.Is(err, os.ErrNotExist) {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("sandbox %s was not wiped (%v)", sb.ID(), err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func running(sb sandbox.Sandbox) bool {
	select {
	case <-sb.Done():
		return false
	default:
		return true
	}
}

// agentPID is the host pid of sb's agent under the process driver, 0 on the fake.
func agentPID(sb sandbox.Sandbox) int {
	var st struct {
		PID int `json:"pid"`
	}
	_ = json.Unmarshal(sb.State(), &st)
	return st.PID
}

// closeManager closes the harness's manager now (its cleanup closes it again, harmlessly).
func (h *harness) closeManager() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := h.m.Close(ctx); err != nil {
		h.t.Fatal(err)
	}
}

func TestPool_WarmedSandboxServesTheNextSession(t *testing.T) {
	h := newHarness(t, withPools(1))
	tgt := h.versionTarget(1, 0)
	h.warm(catalog.DefaultEndpoint, tgt)
	h.waitPool("one ready", readyN(1))
	ps := h.pooledOf(catalog.DefaultEndpoint)[0]
	recs := h.pooledRecords()
	if len(recs) != 1 || recs[0].ID != ps.id || string(recs[0].SandboxState) != string(ps.sb.State()) ||
		recs[0].Version != 1 || recs[0].Endpoint != catalog.DefaultEndpoint || recs[0].Driver != h.drv.Name() {
		t.Fatalf("pooled records %+v, want one for %s with its state", recs, ps.id)
	}

	l := h.acquire(key("hit"), fixed(tgt))
	if !l.PoolHit() || l.Sandbox() != ps.sb {
		t.Fatalf("session got sandbox %s (pool hit %v), want the pooled %s", l.Sandbox().ID(), l.PoolHit(), ps.id)
	}
	out := invoke(t, l, map[string]any{"op": "incr"})
	if pid, _ := out["pid"].(float64); int(pid) != agentPID(ps.sb) || out["count"].(float64) != 1 {
		t.Fatalf("agent answered %v; want the pre-started agent (pid %d) with a fresh counter", out, agentPID(ps.sb))
	}
	rec := h.record(l.RecordID())
	if rec.SandboxID != ps.id || string(rec.SandboxState) != string(ps.sb.State()) || rec.State != store.SessionActive {
		t.Fatalf("session record %+v does not name pooled sandbox %s", rec, ps.id)
	}

	// The pool refills with a new sandbox; the taken one's pooled record is gone.
	h.waitPool("refilled", readyN(1))
	next := h.pooledOf(catalog.DefaultEndpoint)[0]
	if next.sb == ps.sb || h.drv.starts.Load() != 2 {
		t.Fatalf("refill: pooled %s after %d starts, want a second sandbox", next.id, h.drv.starts.Load())
	}
	h.waitPooledRecords(next.id)
	if st := h.m.PoolStats(); st.Hits != 1 || st.Misses != 0 || st.Pools != 1 {
		t.Fatalf("stats %+v, want 1 hit, 0 misses, 1 pool", st)
	}

	// Output from before the hand-over and after it lands in the session's log, in order.
	crash(t, l)
	h.waitEnded(l)
	raw, err := os.ReadFile(filepath.Join(h.logDir, l.RecordID()+".log"))
	if err != nil {
		t.Fatal(err)
	}
	log := string(raw)
	last := -1
	for _, want := range []string{"berth: this session runs pre-started sandbox " + ps.id, "testagent listening on", "testagent: crashing as asked"} {
		i := strings.Index(log, want)
		if i <= last {
			t.Fatalf("session log lacks %q after offset %d:\n%s", want, last, log)
		}
		last = i
	}
	h.closeManager()
	h.assertNoSandboxLeft()
	h.waitPooledRecords()
}

func TestPool_FirstSessionCreatesPool(t *testing.T) {
	h := newHarness(t, withPools(1))
	resolve := h.target(nil)
	l := h.acquire(key("first"), resolve)
	defer l.Release()
	if l.PoolHit() {
		t.Fatal("the first session of a version was a pool hit")
	}
	// The fill is reserved before Acquire returns.
	if st := h.m.PoolStats(); st.Pools != 1 || st.Ready+st.Starting != 1 || st.Misses != 1 {
		t.Fatalf("stats right after the first session %+v, want one pool filling", st)
	}
	h.waitPool("one ready", readyN(1))
	l2 := h.acquire(key("second"), resolve)
	defer l2.Release()
	if !l2.PoolHit() || count(t, l2) != 1 {
		t.Fatal("the second session was not served from the pool")
	}
	if st := h.waitPool("refilled", readyN(1)); st.Hits != 1 || st.Misses != 1 {
		t.Fatalf("stats %+v, want 1 hit and 1 miss", st)
	}
}

func TestPool_SizeZeroDisablesPools(t *testing.T) {
	h := newHarness(t, withPools(0))
	tgt := h.versionTarget(1, 0)
	h.warm(catalog.DefaultEndpoint, tgt)
	l := h.acquire(key("nopool"), fixed(tgt))
	defer l.Release()
	if l.PoolHit() {
		t.Fatal("pool hit with pools off")
	}
	if st := h.m.PoolStats(); st != (PoolStats{}) {
		t.Fatalf("stats %+v with pools off, want zero", st)
	}
	if n := h.drv.starts.Load(); n != 1 {
		t.Fatalf("%d sandbox starts, want 1", n)
	}
	if recs := h.pooledRecords(); len(recs) != 0 {
		t.Fatalf("pooled records %+v with pools off", recs)
	}
}

func TestPool_NewVersionEmptiesSupersededPool(t *testing.T) {
	h := newHarness(t, withPools(1))
	v1, v2 := h.versionTarget(1, 0), h.versionTarget(2, 0)
	h.warm(catalog.DefaultEndpoint, v1)
	h.waitPool("v1 ready", readyN(1))
	old := h.pooledOf(catalog.DefaultEndpoint)[0]

	// A session on the endpoint's new version misses, retires v1's pool and fills v2's.
	l := h.acquire(key("v2"), fixed(v2))
	defer l.Release()
	if l.PoolHit() || l.Version() != 2 || l.Sandbox() == old.sb {
		t.Fatalf("session on v2: hit %v version %d", l.PoolHit(), l.Version())
	}
	h.waitGone(old.sb)
	h.waitPool("v2 ready", readyN(1))
	cur := h.pooledOf(catalog.DefaultEndpoint)[0]
	if cur.key.version != 2 {
		t.Fatalf("pool holds version %d, want 2", cur.key.version)
	}
	h.waitPooledRecords(cur.id)

	// So does Warm with another target: here the same version with a changed Spec.
	changed := v2
	changed.Spec.Env = append(append([]string(nil), v2.Spec.Env...), "EXTRA=1")
	h.warm(catalog.DefaultEndpoint, changed)
	h.waitGone(cur.sb)
	h.waitPool("changed spec ready", readyN(1))
	if got := h.pooledOf(catalog.DefaultEndpoint)[0]; got.key.spec == cur.key.spec {
		t.Fatal("a changed Spec kept the old pool")
	}
	// A session with the old Spec does not get the new one's sandbox.
	l2 := h.acquire(key("oldspec"), fixed(v2))
	defer l2.Release()
	if l2.PoolHit() {
		t.Fatal("a session took a sandbox started with another Spec")
	}
}

func TestPool_RetireAndStopRuntime(t *testing.T) {
	h := newHarness(t, withPools(1))
	tgt := h.versionTarget(1, 0)
	h.warm(catalog.DefaultEndpoint, tgt)
	h.warm(prodEndpoint, tgt)
	h.waitPool("two ready", readyN(2))
	def, prod := h.pooledOf(catalog.DefaultEndpoint)[0], h.pooledOf(prodEndpoint)[0]

	h.m.Retire(t.Context(), testRuntime, prodEndpoint)
	h.waitGone(prod.sb)
	if !running(def.sb) || h.m.PoolStats().Pools != 1 {
		t.Fatalf("retiring %s touched another endpoint's pool: %+v", prodEndpoint, h.m.PoolStats())
	}
	h.waitPooledRecords(def.id)

	h.m.StopRuntime(t.Context(), testRuntime, "")
	h.waitGone(def.sb)
	if st := h.m.PoolStats(); st.Pools != 0 || st.Ready != 0 || st.MemoryBytes != 0 {
		t.Fatalf("stats after StopRuntime %+v, want empty", st)
	}
	h.waitPooledRecords()
}

func TestPool_IdlePoolShrinksToZero(t *testing.T) {
	h := newHarness(t, withPools(1, func(o *Options) { o.PoolIdle = time.Minute }))
	h.warm(catalog.DefaultEndpoint, h.versionTarget(1, 0))
	h.waitPool("one ready", readyN(1))
	ps := h.pooledOf(catalog.DefaultEndpoint)[0]

	h.clock.Advance(59 * time.Second)
	h.waitSweeps(2)
	if !running(ps.sb) || h.m.PoolStats().Ready != 1 {
		t.Fatal("pool emptied before its idle time")
	}
	h.clock.Advance(time.Second)
	h.waitPool("no pool", func(st PoolStats) bool { return st.Pools == 0 && st.Ready == 0 })
	h.waitGone(ps.sb)
	h.waitPooledRecords()
	h.waitSweeps(2)
	if n := h.drv.starts.Load(); n != 1 {
		t.Fatalf("%d starts: an idle pool refilled", n)
	}
}

func TestPool_MemoryBudget(t *testing.T) {
	const limit = 64 << 20
	h := newHarness(t, withPools(3, func(o *Options) { o.PoolMemoryBytes = 2 * limit }))
	tgt := h.versionTarget(1, limit)
	h.warm(catalog.DefaultEndpoint, tgt)
	h.waitPool("two ready", readyN(2))
	h.warm(prodEndpoint, tgt) // no budget left for it
	h.waitSweeps(3)
	if st := h.m.PoolStats(); st.Ready != 2 || st.Starting != 0 || st.MemoryBytes != 2*limit || st.Pools != 2 {
		t.Fatalf("stats %+v, want 2 ready within a budget of %d", st, 2*limit)
	}
	if n := h.drv.starts.Load(); n != 2 {
		t.Fatalf("%d starts, want 2", n)
	}
	// Budget freed by one pool goes to the other on the next sweep.
	h.m.Retire(t.Context(), testRuntime, catalog.DefaultEndpoint)
	h.waitPool("prod filled", readyN(2))
	if len(h.pooledOf(prodEndpoint)) != 2 {
		t.Fatal("the freed budget did not go to the prod pool")
	}
}

func TestPool_NeverBlocksSessionsUnderMaxSessions(t *testing.T) {
	h := newHarness(t, withPools(2, func(o *Options) { o.MaxSessions = 2 }))
	tgt := h.versionTarget(1, 0)
	h.warm(prodEndpoint, tgt)
	h.waitPool("two ready", readyN(2))
	evictable := h.pooledOf(prodEndpoint)

	// Each cold session on another endpoint evicts a pooled sandbox to stay within 2.
	a := h.acquire(key("a"), fixed(tgt))
	defer a.Release()
	b := h.acquire(key("b"), fixed(tgt))
	defer b.Release()
	if a.PoolHit() || b.PoolHit() || count(t, a) != 1 || count(t, b) != 1 {
		t.Fatal("sessions under MaxSessions did not start cold")
	}
	for _, ps := range evictable {
		h.waitGone(ps.sb)
	}
	h.waitSweeps(2)
	if st := h.m.PoolStats(); st.Ready+st.Starting != 0 {
		t.Fatalf("stats %+v: pooled sandboxes beyond MaxSessions", st)
	}
	h.waitPooledRecords()
}

func TestPool_ExitedPooledAgentIsDroppedWithBackOff(t *testing.T) {
	h := newHarness(t, withPools(1))
	h.warm(catalog.DefaultEndpoint, h.versionTarget(1, 0))
	h.waitPool("one ready", readyN(1))
	ps := h.pooledOf(catalog.DefaultEndpoint)[0]
	if pid := agentPID(ps.sb); pid > 0 {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
	} else if err := ps.sb.Stop(t.Context()); err != nil { // the fake: its agent "exits"
		t.Fatal(err)
	}
	h.waitPool("dropped", readyN(0))
	h.waitGone(ps.sb)
	h.waitSweeps(3)
	if n := h.drv.starts.Load(); n != 1 {
		t.Fatalf("%d starts: refilled during the back-off", n)
	}
	h.clock.Advance(poolRetryMin)
	h.waitPool("refilled after the back-off", readyN(1))
}

func TestPool_UnansweringPooledAgentFallsBackToColdStart(t *testing.T) {
	if !realDriver() {
		t.Skip("needs the process driver (root) to freeze a pooled agent")
	}
	h := newHarness(t, withPools(1, func(o *Options) { o.PingTimeout = 200 * time.Millisecond }))
	tgt := h.versionTarget(1, 0)
	h.warm(catalog.DefaultEndpoint, tgt)
	h.waitPool("one ready", readyN(1))
	ps := h.pooledOf(catalog.DefaultEndpoint)[0]
	if err := syscall.Kill(agentPID(ps.sb), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	l := h.acquire(key("frozen"), fixed(tgt))
	defer l.Release()
	// It starts cold, or takes the sandbox the sweeper refilled the pool with meanwhile.
	if l.Sandbox() == ps.sb {
		t.Fatal("the session ran on a pooled agent that does not answer")
	}
	if n := count(t, l); n != 1 {
		t.Fatalf("counter %d, want 1", n)
	}
	h.waitGone(ps.sb)
	if st := h.m.PoolStats(); st.Hits+st.Misses != 1 {
		t.Fatalf("stats %+v, want one session counted", st)
	}
}

func TestPool_RestartReclaimsPooledSandboxes(t *testing.T) {
	h := newHarness(t, withPools(2))
	h.warm(catalog.DefaultEndpoint, h.versionTarget(1, 0))
	h.waitPool("two ready", readyN(2))
	left := h.pooledOf(catalog.DefaultEndpoint)
	if recs := h.pooledRecords(); len(recs) != 2 {
		t.Fatalf("%d pooled records, want 2", len(recs))
	}
	for _, ps := range left {
		t.Cleanup(func() { _ = ps.sb.Stop(context.Background()) })
	}
	// Play a crash: the manager forgets its pools without stopping anything.
	h.m.mu.Lock()
	h.m.pools.pools = map[endpointKey]*pool{}
	h.m.pools.count, h.m.pools.bytes = 0, 0
	h.m.mu.Unlock()

	m2 := h.newManager(Options{Driver: h.drv, Store: h.st, Logger: testLogger(t), Now: h.clock.Now})
	t.Cleanup(func() {
		if err := m2.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	for _, ps := range left {
		h.waitWiped(ps.sb) // reclaimed: killed and wiped (this process still holds the zombie)
	}
	if recs := h.pooledRecords(); len(recs) != 0 {
		t.Fatalf("pooled records after the restart: %+v", recs)
	}
}
