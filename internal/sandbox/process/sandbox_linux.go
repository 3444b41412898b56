package process

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/sandbox/netns"
)

// processSandbox is one running sandbox. All methods are safe for concurrent use.
type processSandbox struct {
	id     string
	layout layout
	env    []string
	ns     *netns.NS
	main   *child
	grace  time.Duration
	state  json.RawMessage

	mu       sync.Mutex
	execs    map[*child]struct{} // running Exec commands, each in its own session
	stopping bool                // set by Stop: no new Exec
	execWG   sync.WaitGroup      // running Exec calls
	usage    sandbox.Usage       // last reading: CPU time and peak only grow

	stopMu  sync.Mutex // serializes Stop
	stopped bool
}

func newSandbox(id string, l layout, env []string, ns *netns.NS, c *child, grace time.Duration) *processSandbox {
	s := &processSandbox{id: id, layout: l, env: env, ns: ns, main: c, grace: grace, execs: map[*child]struct{}{}}
	s.state, _ = json.Marshal(state{ // a struct of strings and ints always encodes
		PID: c.pid, PGID: c.pid, StartTime: c.startTime, BootID: bootID(), WorkDir: l.workdir, Cwd: l.cwd,
	})
	return s
}

// ID returns the Spec's ID.
func (s *processSandbox) ID() string { return s.id }

// DialContext connects to port on the sandbox's loopback ("tcp" and "tcp4" dial
// 127.0.0.1, "tcp6" dials ::1).
func (s *processSandbox) DialContext(ctx context.Context, network string, port int) (net.Conn, error) {
	if port <= 0 || port > 65535 {
		return nil, fmt.Errorf("dial sandbox %s: %w: port %d", s.id, errdefs.ErrInvalidArgument, port)
	}
	var host string
	switch network {
	case "tcp", "tcp4":
		host = "127.0.0.1"
	case "tcp6":
		host = "::1"
	default:
		return nil, fmt.Errorf("dial sandbox %s: %w: network %q", s.id, errdefs.ErrInvalidArgument, network)
	}
	c, err := s.ns.Dial(ctx, network, net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("dial sandbox %s: %w", s.id, err)
	}
	return c, nil
}

// Done is closed when the agent's main process has exited.
func (s *processSandbox) Done() <-chan struct{} { return s.main.exited }

// ExitErr returns nil before Done and after a clean exit, else an *sandbox.ExitError.
func (s *processSandbox) ExitErr() error {
	if !s.main.done() || s.main.exitErr == nil {
		return nil
	}
	return s.main.exitErr
}

// State returns {pid, pgid, start_time, boot_id, workdir, cwd} for Driver.Reclaim.
func (s *processSandbox) State() json.RawMessage { return s.state }

// sessions lists the session ids of the sandbox: the agent's and those of running Exec
// commands. Every leader is an unreaped child, so no id can have been recycled.
func (s *processSandbox) sessions() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := []int{s.main.pid}
	for c := range s.execs {
		ids = append(ids, c.pid)
	}
	return ids
}

// Usage sums CPU time (including reaped children's) and resident memory over every
// process of the sandbox. The peak is the largest of the sums of the processes' own
// high-water marks (VmHWM) seen so far, an upper bound when processes peaked at different
// times. Once Stop has begun it returns the last reading, taken just before the kill.
func (s *processSandbox) Usage(ctx context.Context) (sandbox.Usage, error) {
	s.mu.Lock()
	stopping, last := s.stopping, s.usage
	s.mu.Unlock()
	if stopping {
		return last, nil
	}
	if err := ctx.Err(); err != nil {
		return sandbox.Usage{}, fmt.Errorf("usage of sandbox %s: %w", s.id, err)
	}
	u, err := s.read()
	if err != nil {
		return sandbox.Usage{}, fmt.Errorf("usage of sandbox %s: %w", s.id, err)
	}
	return u, nil
}

func (s *processSandbox) read() (sandbox.Usage, error) {
	procs, err := scan(inSessions(s.sessions()...))
	if err != nil {
		return sandbox.Usage{}, err
	}
	var ticks uint64
	var rss, hwm int64
	for _, p := range procs {
		ticks += p.cpuTicks()
		if p.dead() {
			continue
		}
		r, h, err := readMemory(p.pid)
		if err != nil {
			continue // exited meanwhile
		}
		rss, hwm = rss+r, hwm+h
	}
	hz := clockTicks()
	cpu := time.Duration(ticks/hz)*time.Second + time.Duration(ticks%hz)*time.Second/time.Duration(hz)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.usage.CPUTime = max(s.usage.CPUTime, cpu) // reaped orphans drop out of the sum
	s.usage.MemoryBytes = rss
	s.usage.MemoryPeakBytes = max(s.usage.MemoryPeakBytes, hwm, rss)
	return s.usage, nil
}

// Stop sends SIGTERM to every process of the sandbox (Exec'd commands included), waits
// up to the grace period (cut short by ctx), sends SIGKILL to what is left, reaps, closes
// the network namespace and removes the working directory. It is idempotent; concurrent
// calls wait for the first. If processes survive SIGKILL until ctx ends it returns an
// error and may be called again.
func (s *processSandbox) Stop(ctx context.Context) error {
	s.stopMu.Lock()
	defer s.stopMu.Unlock()
	if s.stopped {
		return nil
	}
	s.mu.Lock()
	s.stopping = true
	s.mu.Unlock()
	_, _ = s.read() // the final reading Usage returns from now on

	sids := s.sessions()
	if err := terminate(ctx, inSessions(sids...), sids, s.grace); err != nil {
		return fmt.Errorf("stop sandbox %s: %w", s.id, err)
	}
	s.execWG.Wait() // each Exec reaps its own command
	errs := []error{s.main.reap(), s.ns.Close()}
	if err := os.RemoveAll(s.layout.workdir); err != nil {
		errs = append(errs, fmt.Errorf("remove working directory: %w", err))
	}
	s.stopped = true
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("stop sandbox %s: %w", s.id, err)
	}
	return nil
}

var _ sandbox.Sandbox = (*processSandbox)(nil)
