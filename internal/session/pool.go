package session

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/sandbox"
)

// Warm pools. Each endpoint keeps up to Options.PoolSize sandboxes of the target its last
// session started on (or Warm was given): started and healthy — the same GET /ping check
// as a session start — but never used. A new session whose target is the same (same
// runtime, endpoint, version and Spec) takes one, pings it once and runs on it: a pool hit
// costs about a warm call instead of a cold start. The pool refills in the background.
//
// Invariants, all under Manager.mu:
//   - an endpoint has at most one pool; a session or Warm with another target (a new
//     version, or a changed Spec) retires it, and its sandboxes are stopped;
//   - every pooled sandbox, starting or ready, is counted in poolSet.count and charged its
//     memory limit in poolSet.bytes; bytes never exceeds PoolMemoryBytes and, with
//     MaxSessions set, a pool fills only while live sessions + pooled sandboxes stay within
//     MaxSessions, and a cold-starting session evicts pooled sandboxes to get back under it
//     (makeRoom): a pooled sandbox never keeps a session from starting;
//   - a pool nobody used for PoolIdle is retired by the sweeper;
//   - each pooled sandbox has a store.PooledSandbox record from before it starts until it
//     is stopped or handed to a session (in the transaction that creates the session's
//     record), so a restart reclaims it.
//
// Limits: a pooled agent ran its start-up code before its session existed (nothing in a
// Spec is per session, so it starts exactly as a cold one would, only earlier). Its output
// before the hand-over is kept up to handoverBuffer bytes, then counted and dropped. The
// memory budget counts memory limits, not what idle agents really use.

// unlimitedCharge is what a pooled sandbox whose Spec has no memory limit counts against
// PoolMemoryBytes.
const unlimitedCharge = 512 << 20

// Pool retry back-off after a pooled sandbox failed to start or exited while pooled.
const (
	poolRetryMin = time.Second
	poolRetryMax = 5 * time.Minute
)

type endpointKey struct{ runtimeID, endpoint string }

// poolKey is what a pool's sandboxes run.
type poolKey struct {
	endpointKey
	version int
	spec    string // specFingerprint of the target
}

// poolSet is the manager's pools; guarded by Manager.mu.
type poolSet struct {
	ctx    context.Context // cancelled by Close: aborts every fill
	cancel context.CancelFunc
	pools  map[endpointKey]*pool
	count  int   // pooled sandboxes, starting or ready
	bytes  int64 // their charges
	hits   int64
	misses int64
}

// pool is one endpoint's warm pool. Its fields are guarded by Manager.mu, except the ones
// set at creation.
type pool struct {
	// Set at creation.
	key    poolKey
	tgt    Target
	port   int
	charge int64
	ctx    context.Context // cancelled when the pool is retired
	cancel context.CancelFunc

	ready    []*pooled // healthy, oldest first
	starting int
	deferred int  // taken by sessions whose refill waits for their first request (refill.go)
	filling  bool // a fill goroutine runs
	retired  bool
	lastUsed time.Time // manager clock
	failures int       // consecutive failed starts
	retryAt  time.Time // no fill before this (manager clock)
}

// pooled is one pooled sandbox. Whoever removes it from its pool owns it.
type pooled struct {
	from    *pool // set by popPooled until its pool may refill the slot (guarded by Manager.mu)
	id      string
	key     poolKey
	sb      sandbox.Sandbox
	out     *handover
	charge  int64
	created time.Time // manager clock
}

// PoolStats is a snapshot of the warm pools.
type PoolStats struct {
	Pools       int   // endpoints with a pool
	Ready       int   // healthy pooled sandboxes
	Starting    int   // pooled sandboxes starting
	MemoryBytes int64 // charged against Options.PoolMemoryBytes
	Hits        int64 // sessions that took a pooled sandbox
	Misses      int64 // sessions started cold while pools are on
}

// PoolStats returns the pools' current sizes and the hit and miss counts so far.
func (m *Manager) PoolStats() PoolStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := PoolStats{Pools: len(m.pools.pools), MemoryBytes: m.pools.bytes, Hits: m.pools.hits, Misses: m.pools.misses}
	for _, p := range m.pools.pools {
		st.Ready += len(p.ready)
		st.Starting += p.starting
	}
	return st
}

// Warm makes endpoint's pool hold sandboxes of tgt (a READY version; build it as for a
// session) and starts filling it in the background. Call it when an endpoint starts
// pointing at a version — a version became READY, or the endpoint was moved — so the first
// session is a pool hit too. A pool the endpoint had for another target is retired and its
// sandboxes stopped. It does nothing when pools are off, and it counts as use of the pool
// for PoolIdle.
func (m *Manager) Warm(endpoint string, tgt Target) error {
	if m.opts.PoolSize == 0 {
		return nil
	}
	if err := checkReady(tgt.Runtime.ID, tgt.Version); err != nil {
		return fmt.Errorf("warm pool of %s endpoint %s: %w", tgt.Runtime.ID, endpoint, err)
	}
	pk, err := poolKeyOf(tgt.Runtime.ID, endpoint, tgt)
	if err != nil {
		return fmt.Errorf("warm pool of %s endpoint %s: %w", tgt.Runtime.ID, endpoint, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closing || !m.started {
		return fmt.Errorf("warm pool of %s endpoint %s: %w: the session manager is not running", tgt.Runtime.ID, endpoint, errdefs.ErrUnavailable)
	}
	m.usePoolLocked(pk, tgt)
	return nil
}

// Retire empties the pool of a runtime's endpoint (every endpoint's when endpoint is "")
// and waits, up to ctx, until its sandboxes are stopped. Call it when an endpoint is
// deleted; a moved endpoint's old pool is retired by Warm or by its next session, and a
// deleted runtime's by StopRuntime.
func (m *Manager) Retire(ctx context.Context, runtimeID, endpoint string) {
	m.mu.Lock()
	var drop []*pooled
	for k, p := range m.pools.pools {
		if k.runtimeID == runtimeID && (endpoint == "" || k.endpoint == endpoint) {
			drop = append(drop, m.retireLocked(p)...)
		}
	}
	m.mu.Unlock()
	if len(drop) > 0 {
		m.log.Info("pool retired", "runtime", runtimeID, "endpoint", endpoint, "sandboxes", len(drop))
	}
	m.discard(ctx, drop)
}

// usePoolLocked returns the pool for pk, marked used now: the endpoint's pool if it is for
// pk, else a new one that replaces it (whose sandboxes are stopped in the background). It
// starts a fill if the pool is short.
func (m *Manager) usePoolLocked(pk poolKey, tgt Target) *pool {
	now := m.now()
	p := m.pools.pools[pk.endpointKey]
	if p != nil && p.key == pk {
		p.lastUsed = now
		p.failures, p.retryAt = 0, time.Time{} // this target just started, or was asked for
		m.fillLocked(p)
		return p
	}
	if p != nil {
		drop := m.retireLocked(p)
		m.log.Info("pool superseded", "runtime", pk.runtimeID, "endpoint", pk.endpoint,
			"old_version", p.key.version, "version", pk.version, "sandboxes", len(drop))
		m.discardLater(drop)
	}
	ctx, cancel := context.WithCancel(m.pools.ctx)
	charge := tgt.Spec.Limits.MemoryBytes
	if charge <= 0 {
		charge = unlimitedCharge
	}
	if charge > m.opts.PoolMemoryBytes {
		m.log.Warn("pool memory budget cannot hold one sandbox of this version: its pool stays empty",
			"runtime", pk.runtimeID, "endpoint", pk.endpoint, "version", pk.version,
			"sandbox_memory", charge, "budget", m.opts.PoolMemoryBytes)
	}
	p = &pool{key: pk, tgt: tgt, port: targetPort(tgt), charge: charge, ctx: ctx, cancel: cancel, lastUsed: now}
	m.pools.pools[pk.endpointKey] = p
	m.fillLocked(p)
	return p
}

// retireLocked removes p from the pools, aborts its fill and returns its ready sandboxes,
// which the caller must discard.
func (m *Manager) retireLocked(p *pool) []*pooled {
	p.retired = true
	p.cancel()
	if m.pools.pools[p.key.endpointKey] == p {
		delete(m.pools.pools, p.key.endpointKey)
	}
	drop := p.ready
	p.ready = nil
	for _, ps := range drop {
		m.unchargeLocked(ps.charge)
	}
	return drop
}

// unchargeLocked returns one pooled sandbox's slot and charge.
func (m *Manager) unchargeLocked(charge int64) {
	m.pools.count--
	m.pools.bytes -= charge
}

// closePools retires every pool and stops their sandboxes (Close). Fills in flight are
// aborted and clean up after themselves.
func (m *Manager) closePools(ctx context.Context) {
	m.mu.Lock()
	m.pools.cancel()
	var drop []*pooled
	for _, p := range m.pools.pools {
		drop = append(drop, m.retireLocked(p)...)
	}
	m.mu.Unlock()
	m.discard(ctx, drop)
}

// discard stops pooled sandboxes and deletes their records, concurrently, and waits for
// them or for ctx.
func (m *Manager) discard(ctx context.Context, drop []*pooled) {
	if len(drop) == 0 {
		return
	}
	var wg sync.WaitGroup
	for _, ps := range drop {
		wg.Go(func() { m.stopPooled(ps) })
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// discardLater stops pooled sandboxes in the background. Call it only from a goroutine of
// m.wg or with m.mu held and the manager not closing, so Close waits for it.
func (m *Manager) discardLater(drop []*pooled) {
	for _, ps := range drop {
		m.wg.Go(func() { m.stopPooled(ps) })
	}
}

// stopPooled stops a pooled sandbox and deletes its record.
func (m *Manager) stopPooled(ps *pooled) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(m.base), m.opts.StopTimeout)
	err := ps.sb.Stop(ctx)
	cancel()
	if err != nil {
		m.log.Error("stop pooled sandbox", "sandbox", ps.id, "runtime", ps.key.runtimeID, "err", err)
		return // keep the record: a restart retries the reclaim
	}
	m.deletePooledRecord(ps.id)
}

// poolKeyOf is the pool a session of runtimeID's endpoint on tgt takes from.
func poolKeyOf(runtimeID, endpoint string, tgt Target) (poolKey, error) {
	fp, err := specFingerprint(tgt.Spec, targetPort(tgt))
	if err != nil {
		return poolKey{}, err
	}
	return poolKey{endpointKey: endpointKey{runtimeID, endpoint}, version: tgt.Version.Number, spec: fp}, nil
}

// specFingerprint hashes everything a sandbox is started with except what the manager sets
// per sandbox (ID, Stdout, Stderr): sandboxes with equal fingerprints are interchangeable.
func specFingerprint(spec sandbox.Spec, port int) (string, error) {
	spec.ID, spec.Stdout, spec.Stderr = "", nil, nil
	raw, err := json.Marshal(struct {
		Spec sandbox.Spec
		Port int
	}{spec, port})
	if err != nil {
		return "", fmt.Errorf("fingerprint sandbox spec: %w", err)
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:]), nil
}

// targetPort is the agent's port for tgt.
func targetPort(tgt Target) int {
	if tgt.Port != 0 {
		return tgt.Port
	}
	_, port, _ := catalog.EffectiveProtocol(tgt.Version.Config)
	return port
}

// checkReady refuses a version that cannot run.
func checkReady(runtimeID string, v catalog.Version) error {
	if v.Status != catalog.StatusReady || v.Prepared == nil {
		return fmt.Errorf("%w: version %d of agent runtime %s is not ready (status %s)",
			errdefs.ErrConflict, v.Number, runtimeID, v.Status)
	}
	return nil
}
