package linuxns

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/sandbox/cgroup"
)

// nsSandbox is a running namespace sandbox.
type nsSandbox struct {
	d       *Driver
	id      string
	c       *child
	cg      *cgroup.Group
	network sandbox.Network
	cfg     *childConfig // for Exec: the environment, user and working directory
	limits  sandbox.Limits

	exitOnce sync.Once
	exitErr  error

	stopOnce sync.Once
	stopErr  error
	mu       sync.Mutex
	stopping bool // under mu: no new Exec
	execs    sync.WaitGroup
}

func newSandbox(d *Driver, id string, c *child, cg *cgroup.Group, network sandbox.Network, cfg *childConfig, l sandbox.Limits) *nsSandbox {
	return &nsSandbox{d: d, id: id, c: c, cg: cg, network: network, cfg: cfg, limits: l}
}

func (s *nsSandbox) ID() string { return s.id }

// DialContext connects to port on the sandbox's loopback, from inside its namespace.
func (s *nsSandbox) DialContext(ctx context.Context, network string, port int) (net.Conn, error) {
	return s.network.Dial(ctx, network, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
}

func (s *nsSandbox) Done() <-chan struct{} { return s.c.exited }

// ExitErr says how the agent ended, naming an out-of-memory kill.
func (s *nsSandbox) ExitErr() error {
	select {
	case <-s.c.exited:
	default:
		return nil
	}
	s.exitOnce.Do(func() { s.exitErr = s.describeExit() })
	return s.exitErr
}

func (s *nsSandbox) describeExit() error {
	var ee *sandbox.ExitError
	if ps := s.c.cmd.ProcessState; ps != nil {
		if ws, ok := ps.Sys().(syscall.WaitStatus); ok {
			ee = sandbox.ExitStatus(ws)
		}
	}
	if st, err := s.cg.Stats(); err == nil && st.OOMKills > 0 {
		if ee == nil {
			ee = &sandbox.ExitError{Code: -1}
		}
		ee.OOM = true
		ee.MemoryLimit = s.limits.MemoryBytes
	}
	if ee == nil {
		return nil
	}
	return ee
}

// Usage reads the sandbox's cgroup.
func (s *nsSandbox) Usage(context.Context) (sandbox.Usage, error) {
	st, err := s.cg.Stats()
	if err != nil {
		return sandbox.Usage{}, err
	}
	return sandbox.Usage{CPUTime: st.CPUTime, MemoryBytes: st.MemoryBytes, MemoryPeakBytes: st.MemoryPeakBytes}, nil
}

// catches reports whether process pid has a handler for sig (SigCgt in its status). An
// unreadable status counts as catching, so the grace period is kept.
func catches(pid int, sig syscall.Signal) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return true
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "SigCgt:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return err != nil || mask&(1<<(uint(sig)-1)) != 0
		}
	}
	return true
}

// state is what Reclaim needs after a crash.
type state struct {
	ID     string `json:"id"`
	Pid    int    `json:"pid"`
	Cgroup string `json:"cgroup"`
}

func (s *nsSandbox) State() json.RawMessage {
	b, _ := json.Marshal(state{ID: s.id, Pid: s.c.pid, Cgroup: s.cg.Name()})
	return b
}

// Stop ends the sandbox: SIGTERM to the agent, SIGKILL to everything after the grace, then
// removal of the cgroup, the mount point and the network.
func (s *nsSandbox) Stop(ctx context.Context) error {
	s.stopOnce.Do(func() { s.stopErr = s.stop(ctx) })
	return s.stopErr
}

func (s *nsSandbox) stop(ctx context.Context) error {
	s.mu.Lock()
	s.stopping = true
	s.mu.Unlock()
	select {
	case <-s.c.exited:
	default:
		if !catches(s.c.pid, syscall.SIGTERM) {
			break // PID 1 of a namespace ignores signals it has no handler for: no grace
		}
		_ = s.c.cmd.Process.Signal(syscall.SIGTERM)
		t := time.NewTimer(s.d.grace)
		select {
		case <-s.c.exited:
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
	}
	var errs []error
	// Killing the cgroup kills PID 1 (and with it the PID namespace) and any Exec'd process.
	if err := s.cg.Kill(ctx); err != nil {
		errs = append(errs, err)
	}
	select {
	case <-s.c.exited:
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("wait for the agent: %w", ctx.Err()))
	}
	s.execs.Wait()
	if err := s.cg.Destroy(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := s.network.Close(); err != nil {
		errs = append(errs, err)
	}
	if err := removeDir(s.d.sessionDir(s.id)); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("stop sandbox %s: %w", s.id, err)
	}
	return nil
}
