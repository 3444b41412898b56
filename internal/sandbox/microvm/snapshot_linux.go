package microvm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/sandbox/rootfs"
	"berth.dev/berth/internal/tailbuf"
	"berth.dev/berth/internal/vmm"
)

// An agent snapshot is the fast path: a VM of one spec, restored from its template, with
// the agent started, listening and answering, then paused and snapshotted the template's
// way (its RAM in a file of its own, the device state beside it). Every later sandbox of
// the spec restores it copy-on-write and gets Resume (its own relay token, fresh entropy,
// the time), so a session pays neither the agent's start-up nor its imports.
//
// What clones share, stated honestly: the agent process's own state at the snapshot —
// including any randomness it drew in user space before it (a PRNG seeded at start-up);
// the kernel's CRNG is reseeded, so reads of /dev/urandom and getrandom differ.
//
// Agent snapshots live in CacheDir/snapshots, one directory per spec key. They are not
// synced to disk: each records the host's boot id, and one from another boot (whose page
// cache, and so possibly the file's content, was lost) is removed, not used.

const (
	// snapshotBuildTimeout bounds building an agent snapshot, the agent's start-up
	// included (a heavy Python agent under TCG takes tens of seconds).
	snapshotBuildTimeout = 3 * time.Minute
	// snapshotRetryAfter is how long a spec whose agent snapshot failed to build starts
	// from its template before the driver tries again.
	snapshotRetryAfter = 10 * time.Minute
	// maxReplay bounds the start-up output an agent snapshot keeps for its clones.
	maxReplay = 256 << 10
)

// agentSnapshot is one spec's snapshot with its agent running.
type agentSnapshot struct {
	key, dir   string
	ram, state string
	output     []outputChunk // the agent's output before the snapshot, in order
}

// outputChunk is some output of the agent on FD 1 or 2.
type outputChunk struct {
	FD   int    `json:"fd"`
	Data []byte `json:"data"`
}

// snapshotMeta is the file that completes an agent snapshot's directory.
type snapshotMeta struct {
	Boot   string        `json:"boot"`
	Output []outputChunk `json:"output"`
}

// snapshotEntry counts one spec's starts and builds its agent snapshot.
type snapshotEntry struct {
	mu     sync.Mutex
	starts int
	failed time.Time // when the last build failed
	snap   oneBuild[*agentSnapshot]
}

// maxSnapshotEntries bounds the in-memory start counts.
const maxSnapshotEntries = 4096

// agentSnapshotFor returns the agent snapshot to restore spec from, or nil to start the
// agent in a template: agent snapshots are off, spec names no port to wait for, it has
// not been started often enough yet, or its snapshot cannot be built (logged). It builds
// the snapshot when it is due, which makes that Start slower.
func (d *Driver) agentSnapshotFor(ctx context.Context, spec sandbox.Spec, sh shape, tmpl *template) *agentSnapshot {
	after := d.cfg.SnapshotAfter
	if after == 0 {
		after = DefaultSnapshotAfter
	}
	if after < 0 || len(spec.Ports) == 0 {
		return nil
	}
	key, err := d.agentSnapshotKey(spec, sh)
	if err != nil {
		d.log.WarnContext(ctx, "agent snapshot key", "err", err)
		return nil
	}
	d.mu.Lock()
	e, ok := d.snapshots[key]
	if !ok {
		if len(d.snapshots) >= maxSnapshotEntries {
			clear(d.snapshots)
		}
		e = &snapshotEntry{}
		d.snapshots[key] = e
	}
	d.mu.Unlock()
	e.mu.Lock()
	e.starts++
	due := e.starts >= after && time.Since(e.failed) >= snapshotRetryAfter
	e.mu.Unlock()
	if snap, ok := e.snap.peek(); ok {
		if fileExists(snap.state) {
			now := time.Now()
			_ = os.Chtimes(snap.dir, now, now) // most recently used
			return snap
		}
		e.snap.forget(func(s *agentSnapshot) bool { return s == snap }) // evicted
	}
	if !due {
		return nil
	}
	snap, err := e.snap.get(ctx, snapshotBuildTimeout, func(ctx context.Context) (*agentSnapshot, error) {
		if snap := d.loadAgentSnapshot(key); snap != nil {
			return snap, nil
		}
		t0 := time.Now()
		snap, err := d.buildAgentSnapshot(ctx, key, spec, sh, tmpl)
		if err != nil {
			e.mu.Lock()
			e.failed = time.Now()
			e.mu.Unlock()
			d.log.WarnContext(ctx, "cannot snapshot the agent; its sessions start it in a template", "id", spec.ID, "err", err)
			return nil, err
		}
		d.log.InfoContext(ctx, "microvm agent snapshot built", "key", key, "id", spec.ID, "took", time.Since(t0))
		d.evictSnapshots(ctx, key)
		return snap, nil
	})
	if err != nil {
		return nil
	}
	return snap
}

// forgetAgentSnapshot drops snap, which failed to restore, so that it is built anew.
func (d *Driver) forgetAgentSnapshot(snap *agentSnapshot) {
	d.mu.Lock()
	e := d.snapshots[snap.key]
	d.mu.Unlock()
	if e != nil {
		e.snap.forget(func(s *agentSnapshot) bool { return s == snap })
	}
	_ = os.RemoveAll(snap.dir)
}

// agentSnapshotKey names spec's agent snapshot by everything it depends on: the template
// (disks, size, kernel, guest init, QEMU) and everything of the spec but its ID and
// output writers.
func (d *Driver) agentSnapshotKey(spec sandbox.Spec, sh shape) (string, error) {
	base, err := d.templateKey(sh)
	if err != nil {
		return "", err
	}
	pids, disk := d.guestLimits(spec, sh)
	b, err := json.Marshal(struct {
		Command, Env, AllowedDomains []string
		WorkDir, CodeMount, Network  string
		Ports                        []int
		Pids, DiskBytes              int64
		UID, GID                     int
	}{
		spec.Command, spec.Env, spec.Network.AllowedDomains,
		spec.WorkDir, codeMount(spec), string(spec.Network.Mode),
		spec.Ports, pids, disk, rootfs.SandboxUID, rootfs.SandboxGID,
	})
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "berth-agent-snapshot-v1\n%s\n%t\n", base, spec.CodeDir != "")
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))[:32], nil
}

func (d *Driver) snapshotsDir() string { return filepath.Join(d.cfg.CacheDir, "snapshots") }

// loadAgentSnapshot returns the agent snapshot of key from the cache, or nil. One from
// another boot of the host is removed.
func (d *Driver) loadAgentSnapshot(key string) *agentSnapshot {
	dir := filepath.Join(d.snapshotsDir(), key)
	b, err := os.ReadFile(filepath.Join(dir, "snapshot.json"))
	if err != nil {
		return nil
	}
	var meta snapshotMeta
	snap := &agentSnapshot{key: key, dir: dir, ram: filepath.Join(dir, "ram"), state: filepath.Join(dir, "state")}
	if json.Unmarshal(b, &meta) != nil || meta.Boot != bootID() || !fileExists(snap.ram) || !fileExists(snap.state) {
		_ = os.RemoveAll(dir)
		return nil
	}
	snap.output = meta.Output
	return snap
}

// buildAgentSnapshot restores tmpl into a copy of its RAM file that the VM writes to,
// starts spec's agent there, waits until it answers on its first port, pauses the guest,
// snapshots the VM and kills it. ctx bounds it all.
func (d *Driver) buildAgentSnapshot(ctx context.Context, key string, spec sandbox.Spec, sh shape, tmpl *template) (*agentSnapshot, error) {
	parent := d.snapshotsDir()
	if err := os.MkdirAll(parent, 0o750); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(parent, ".build-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	ram := filepath.Join(tmp, "ram")
	if err := copySparse(tmpl.ram, ram); err != nil {
		return nil, fmt.Errorf("copy the template's memory: %w", err)
	}
	bspec := spec
	bspec.ID = "snapshot-" + key[:12]
	network, err := d.prepareNetwork(ctx, bspec.ID, spec.Network)
	if err != nil {
		return nil, err
	}
	defer closeNetwork(network)
	cfg := d.vmConfig(sh, network)
	cfg.Dir = tmp
	cfg.Memory = &vmm.MemoryFile{Path: ram, Shared: true}
	cfg.Restore = tmpl.state
	console := tailbuf.New(16<<10, nil)
	cfg.Console = console
	m, err := d.vmm.Start(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("restore the template: %w", err)
	}
	rec := &outputRecorder{}
	bspec.Stdout, bspec.Stderr = rec.fd(1), rec.fd(2)
	s := newSandbox(d, bspec, sh, tmp, m, network, console, nil)
	defer func() {
		s.stopping.Store(true)
		_ = m.Kill()
		<-s.readerDone
	}()
	if err := s.startAgent(ctx, bspec); err != nil {
		return nil, err
	}
	if err := s.waitAnswering(ctx, spec.Ports[0]); err != nil {
		return nil, fmt.Errorf("the agent did not answer on port %d: %w; its output ends: %q", spec.Ports[0], err, rec.tail(1000))
	}
	if err := s.pause(ctx); err != nil {
		return nil, err
	}
	if err := m.Snapshot(ctx, filepath.Join(tmp, "state")); err != nil {
		return nil, err
	}
	_ = m.Kill()
	<-s.readerDone
	meta, err := json.Marshal(snapshotMeta{Boot: bootID(), Output: rec.chunks})
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(tmp, "snapshot.json"), meta, 0o600); err != nil {
		return nil, err
	}
	// Another driver sharing the cache may have built the same snapshot meanwhile: keep
	// theirs, which clones may already be using.
	if snap := d.loadAgentSnapshot(key); snap != nil {
		return snap, nil
	}
	dir := filepath.Join(parent, key)
	_ = os.RemoveAll(dir) // a partial one
	// Not atomicfile.Rename: syncing the directory would write the RAM file out too
	// (ext4's ordered mode), and the boot id makes syncing needless.
	if err := os.Rename(tmp, dir); err != nil {
		return nil, err
	}
	return &agentSnapshot{key: key, dir: dir, ram: filepath.Join(dir, "ram"), state: filepath.Join(dir, "state"), output: rec.chunks}, nil
}

// waitAnswering waits until the agent answers an HTTP request on port: any answer will do
// (AgentCore's protocols are all HTTP; /ping is the HTTP protocol's health check).
func (s *vmSandbox) waitAnswering(ctx context.Context, port int) error {
	const request = "GET /ping HTTP/1.0\r\nHost: sandbox\r\n\r\n"
	for {
		c, err := s.DialContext(ctx, "tcp", port)
		if err == nil {
			_ = c.SetDeadline(time.Now().Add(30 * time.Second))
			buf := make([]byte, 5)
			_, err = io.WriteString(c, request)
			if err == nil {
				_, err = io.ReadFull(c, buf)
			}
			_ = c.Close()
			if err == nil && string(buf) == "HTTP/" {
				return nil
			}
		}
		select {
		case <-s.done:
			return fmt.Errorf("the agent ended: %w", s.exitErr.Load())
		case <-ctx.Done():
			return fmt.Errorf("%w (last attempt: %w)", ctx.Err(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// restoreAgent starts a clone of snap for spec in dir and network, and makes it the
// sandbox's own.
func (d *Driver) restoreAgent(ctx context.Context, spec sandbox.Spec, sh shape, snap *agentSnapshot, dir string, network sandbox.Network) (*vmSandbox, error) {
	return d.clone(ctx, spec, sh, dir, network, clonedFrom{ram: snap.ram, state: snap.state, output: snap.output, what: "restore the agent snapshot", then: "resume"},
		func(s *vmSandbox) error { return s.resume(ctx) })
}

// evictSnapshots removes the least recently used agent snapshots beyond MaxSnapshots,
// never keep. Clones running from a removed snapshot keep their mapping of its RAM file.
func (d *Driver) evictSnapshots(ctx context.Context, keep string) {
	d.evictMu.Lock()
	defer d.evictMu.Unlock()
	limit := d.cfg.MaxSnapshots
	if limit <= 0 {
		limit = DefaultMaxSnapshots
	}
	des, err := os.ReadDir(d.snapshotsDir())
	if err != nil {
		return
	}
	type used struct {
		name string
		at   time.Time
	}
	var dirs []used
	for _, de := range des {
		if !de.IsDir() || strings.HasPrefix(de.Name(), ".") {
			continue
		}
		if fi, err := de.Info(); err == nil {
			dirs = append(dirs, used{de.Name(), fi.ModTime()})
		}
	}
	slices.SortFunc(dirs, func(a, b used) int { return a.at.Compare(b.at) })
	left := len(dirs)
	for _, u := range dirs {
		if left <= limit {
			break
		}
		if u.name == keep {
			continue
		}
		if err := os.RemoveAll(filepath.Join(d.snapshotsDir(), u.name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			d.log.WarnContext(ctx, "evict agent snapshot", "err", err)
		}
		left--
	}
}

// outputRecorder keeps an agent's output, in order, up to maxReplay bytes.
type outputRecorder struct {
	mu     sync.Mutex
	chunks []outputChunk
	size   int
}

type recorderFD struct {
	r  *outputRecorder
	fd int
}

func (r *outputRecorder) fd(fd int) io.Writer { return recorderFD{r, fd} }

func (w recorderFD) Write(p []byte) (int, error) {
	w.r.mu.Lock()
	defer w.r.mu.Unlock()
	if n := min(len(p), maxReplay-w.r.size); n > 0 {
		w.r.chunks = append(w.r.chunks, outputChunk{FD: w.fd, Data: slices.Clone(p[:n])})
		w.r.size += n
	}
	return len(p), nil
}

// tail returns the last n bytes of the output, for errors.
func (r *outputRecorder) tail(n int) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var all []byte
	for _, c := range r.chunks {
		all = append(all, c.Data...)
	}
	return string(all[max(len(all)-n, 0):])
}

var (
	bootOnce sync.Once
	bootVal  string
)

// bootID identifies the host's current boot.
func bootID() string {
	bootOnce.Do(func() {
		b, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
		bootVal = strings.TrimSpace(string(b))
	})
	return bootVal
}
