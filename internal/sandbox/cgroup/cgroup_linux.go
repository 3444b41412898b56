package cgroup

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Limits bound a group. Zero means unlimited.
type Limits struct {
	CPUs        float64 // cores; 0.5 is half of one core
	MemoryBytes int64
	Pids        int64
}

// Stats is a reading of a group's accounting.
type Stats struct {
	CPUTime         time.Duration // user+system, cumulative
	MemoryBytes     int64         // charged now (includes page cache and tmpfs)
	MemoryPeakBytes int64         // high-water mark; on v2 kernels without memory.peak, MemoryBytes
	OOMKills        int64         // processes the kernel killed for exceeding the memory limit
	Pids            int64         // live tasks
}

// v1Controllers are the v1 hierarchies a group lives in.
var v1Controllers = []string{"memory", "cpu", "cpuacct", "pids"}

// Manager knows where the hierarchies are mounted.
type Manager struct {
	v2 string            // unified mount with controllers, or ""
	v1 map[string]string // controller → mount point
}

// New finds the cgroup hierarchies of this host.
func New() (*Manager, error) { return newFrom("/proc/self/mountinfo") }

func newFrom(mountinfo string) (*Manager, error) {
	f, err := os.Open(mountinfo)
	if err != nil {
		return nil, fmt.Errorf("cgroup: read mounts: %w", err)
	}
	defer func() { _ = f.Close() }()
	m := &Manager{v1: map[string]string{}}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		// id parent major:minor root mountpoint options [optional...] - fstype source superoptions
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		fields, tail := strings.Fields(pre), strings.Fields(post)
		if len(fields) < 5 || len(tail) < 3 {
			continue
		}
		mnt := unescape(fields[4])
		switch tail[0] {
		case "cgroup2":
			if b, err := os.ReadFile(filepath.Join(mnt, "cgroup.controllers")); err == nil && hasAll(strings.Fields(string(b)), "memory", "pids") {
				m.v2 = mnt
			}
		case "cgroup":
			for _, opt := range strings.Split(tail[2], ",") {
				if slices.Contains(v1Controllers, opt) {
					if _, dup := m.v1[opt]; !dup {
						m.v1[opt] = mnt
					}
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cgroup: read mounts: %w", err)
	}
	if m.v2 != "" {
		m.v1 = nil
		return m, nil
	}
	var missing []string
	for _, c := range v1Controllers {
		if m.v1[c] == "" {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("cgroup: no usable hierarchy: cgroup v2 has no memory and pids controllers and v1 lacks %s", strings.Join(missing, ", "))
	}
	return m, nil
}

func hasAll(have []string, want ...string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// unescape undoes mountinfo's octal escapes (\040 for a space).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Version is 1 or 2.
func (m *Manager) Version() int {
	if m.v2 != "" {
		return 2
	}
	return 1
}

// Group is one named control group.
type Group struct {
	m    *Manager
	name string
}

// Open returns the group called name; it need not exist.
func (m *Manager) Open(name string) *Group { return &Group{m: m, name: name} }

// Name is the group's relative path.
func (g *Group) Name() string { return g.name }

// Create makes the group in every hierarchy and applies l. On error nothing is left.
func (m *Manager) Create(name string, l Limits) (*Group, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	g := &Group{m: m, name: name}
	if err := g.create(l); err != nil {
		_ = g.remove()
		return nil, fmt.Errorf("cgroup %s: %w", name, err)
	}
	return g, nil
}

func checkName(name string) error {
	if name == "" || filepath.IsAbs(name) || !filepath.IsLocal(name) {
		return fmt.Errorf("cgroup: invalid group name %q", name)
	}
	return nil
}

// dirs lists the group's directories, one per hierarchy.
func (g *Group) dirs() []string {
	if g.m.v2 != "" {
		return []string{filepath.Join(g.m.v2, g.name)}
	}
	out := make([]string, 0, len(v1Controllers))
	for _, c := range v1Controllers {
		d := filepath.Join(g.m.v1[c], g.name)
		if !slices.Contains(out, d) { // cpu and cpuacct may share a mount
			out = append(out, d)
		}
	}
	return out
}

func (g *Group) dir(controller string) string {
	if g.m.v2 != "" {
		return filepath.Join(g.m.v2, g.name)
	}
	return filepath.Join(g.m.v1[controller], g.name)
}

func (g *Group) create(l Limits) error {
	if g.m.v2 != "" {
		if err := g.enableV2Controllers(); err != nil {
			return err
		}
	}
	for _, d := range g.dirs() {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	return g.apply(l)
}

// enableV2Controllers turns on memory, pids and cpu for the children of every ancestor.
func (g *Group) enableV2Controllers() error {
	dir := g.m.v2
	parts := strings.Split(filepath.Dir(g.name), string(filepath.Separator))
	for i := 0; ; i++ {
		if err := writeFile(filepath.Join(dir, "cgroup.subtree_control"), "+memory +pids +cpu"); err != nil {
			return fmt.Errorf("enable controllers in %s: %w", dir, err)
		}
		if i >= len(parts) || parts[i] == "." {
			return nil
		}
		dir = filepath.Join(dir, parts[i])
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
}

func (g *Group) apply(l Limits) error {
	const period = 100000 // µs
	if g.m.v2 != "" {
		d := g.dir("")
		if l.MemoryBytes > 0 {
			if err := writeFile(filepath.Join(d, "memory.max"), strconv.FormatInt(l.MemoryBytes, 10)); err != nil {
				return err
			}
			_ = writeFile(filepath.Join(d, "memory.swap.max"), "0") // absent without swap accounting
		}
		if l.Pids > 0 {
			if err := writeFile(filepath.Join(d, "pids.max"), strconv.FormatInt(l.Pids, 10)); err != nil {
				return err
			}
		}
		if l.CPUs > 0 {
			return writeFile(filepath.Join(d, "cpu.max"), fmt.Sprintf("%d %d", int64(l.CPUs*period), period))
		}
		return nil
	}
	if l.MemoryBytes > 0 {
		if err := writeFile(filepath.Join(g.dir("memory"), "memory.limit_in_bytes"), strconv.FormatInt(l.MemoryBytes, 10)); err != nil {
			return err
		}
		// Also bound swap when swap accounting exists; the file is missing otherwise.
		_ = writeFile(filepath.Join(g.dir("memory"), "memory.memsw.limit_in_bytes"), strconv.FormatInt(l.MemoryBytes, 10))
	}
	if l.Pids > 0 {
		if err := writeFile(filepath.Join(g.dir("pids"), "pids.max"), strconv.FormatInt(l.Pids, 10)); err != nil {
			return err
		}
	}
	if l.CPUs > 0 {
		if err := writeFile(filepath.Join(g.dir("cpu"), "cpu.cfs_period_us"), strconv.Itoa(period)); err != nil {
			return err
		}
		return writeFile(filepath.Join(g.dir("cpu"), "cpu.cfs_quota_us"), strconv.FormatInt(int64(l.CPUs*period), 10))
	}
	return nil
}

// AddProc moves pid (and, on v1, only that thread group) into the group.
func (g *Group) AddProc(pid int) error {
	for _, d := range g.dirs() {
		if err := writeFile(filepath.Join(d, "cgroup.procs"), strconv.Itoa(pid)); err != nil {
			return fmt.Errorf("cgroup %s: add %d: %w", g.name, pid, err)
		}
	}
	return nil
}

// Procs lists the pids in the group (from the pids hierarchy on v1).
func (g *Group) Procs() ([]int, error) {
	b, err := os.ReadFile(filepath.Join(g.dir("pids"), "cgroup.procs"))
	if err != nil {
		return nil, fmt.Errorf("cgroup %s: %w", g.name, err)
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if n, err := strconv.Atoi(f); err == nil {
			out = append(out, n)
		}
	}
	return out, nil
}

// Stats reads the group's accounting.
func (g *Group) Stats() (Stats, error) {
	var s Stats
	var err error
	if g.m.v2 != "" {
		s, err = g.statsV2()
	} else {
		s, err = g.statsV1()
	}
	if err != nil {
		return Stats{}, fmt.Errorf("cgroup %s: stats: %w", g.name, err)
	}
	if s.MemoryPeakBytes < s.MemoryBytes {
		s.MemoryPeakBytes = s.MemoryBytes
	}
	return s, nil
}

func (g *Group) statsV1() (Stats, error) {
	var s Stats
	ns, err := readInt(filepath.Join(g.dir("cpuacct"), "cpuacct.usage"))
	if err != nil {
		return s, err
	}
	s.CPUTime = time.Duration(ns)
	mem := g.dir("memory")
	if s.MemoryBytes, err = readInt(filepath.Join(mem, "memory.usage_in_bytes")); err != nil {
		return s, err
	}
	if s.MemoryPeakBytes, err = readInt(filepath.Join(mem, "memory.max_usage_in_bytes")); err != nil {
		return s, err
	}
	if kv, err := readKV(filepath.Join(mem, "memory.oom_control")); err == nil {
		s.OOMKills = kv["oom_kill"]
	}
	if s.Pids, err = readInt(filepath.Join(g.dir("pids"), "pids.current")); err != nil {
		return s, err
	}
	return s, nil
}

func (g *Group) statsV2() (Stats, error) {
	var s Stats
	d := g.dir("")
	kv, err := readKV(filepath.Join(d, "cpu.stat"))
	if err != nil {
		return s, err
	}
	s.CPUTime = time.Duration(kv["usage_usec"]) * time.Microsecond
	if s.MemoryBytes, err = readInt(filepath.Join(d, "memory.current")); err != nil {
		return s, err
	}
	s.MemoryPeakBytes, _ = readInt(filepath.Join(d, "memory.peak")) // Linux ≥ 5.19
	if ev, err := readKV(filepath.Join(d, "memory.events")); err == nil {
		s.OOMKills = ev["oom_kill"]
	}
	if s.Pids, err = readInt(filepath.Join(d, "pids.current")); err != nil {
		return s, err
	}
	return s, nil
}

// Kill sends SIGKILL to every process in the group until none is left or ctx ends. A
// group that does not exist is empty.
func (g *Group) Kill(ctx context.Context) error {
	if g.m.v2 != "" {
		err := writeFile(filepath.Join(g.dir(""), "cgroup.kill"), "1")
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
	}
	for delay := 200 * time.Microsecond; ; delay = min(delay*2, 20*time.Millisecond) {
		pids, err := g.Procs()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if len(pids) == 0 {
			return nil
		}
		for _, p := range pids {
			_ = unix.Kill(p, unix.SIGKILL)
		}
		if err := sleep(ctx, delay); err != nil {
			return fmt.Errorf("cgroup %s: %d processes still alive: %w", g.name, len(pids), err)
		}
	}
}

// Destroy kills everything in the group and removes its directories. Removing waits for
// the kernel to let go of a dying group (EBUSY) until ctx ends. A missing group is not an
// error.
func (g *Group) Destroy(ctx context.Context) error {
	if err := g.Kill(ctx); err != nil {
		return err
	}
	for delay := 200 * time.Microsecond; ; delay = min(delay*2, 20*time.Millisecond) {
		err := g.remove()
		if err == nil {
			return nil
		}
		if !errors.Is(err, syscall.EBUSY) {
			return fmt.Errorf("cgroup %s: remove: %w", g.name, err)
		}
		if serr := sleep(ctx, delay); serr != nil {
			return fmt.Errorf("cgroup %s: remove: %w", g.name, errors.Join(err, serr))
		}
	}
}

func (g *Group) remove() error {
	var errs []error
	for _, d := range g.dirs() {
		if err := unix.Rmdir(d); err != nil && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("%s: %w", d, err))
		}
	}
	return errors.Join(errs...)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func writeFile(path, v string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	_, werr := f.WriteString(v)
	cerr := f.Close()
	if werr != nil {
		return fmt.Errorf("write %s: %w", path, werr)
	}
	return cerr
}

func readInt(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return n, nil
}

func readKV(path string) (map[string]int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
			out[k] = n
		}
	}
	return out, nil
}
