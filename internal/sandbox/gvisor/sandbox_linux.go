package gvisor

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"sync"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/sandbox/cgroup"
)

// gvSandbox is a running gVisor sandbox. All methods are safe for concurrent use.
type gvSandbox struct {
	d      *Driver
	id     string
	dir    string
	bundle bundleSpec // the agent's environment and working directory, for Exec
	limits sandbox.Limits
	runner *runner
	t      *teardown
	cg     *cgroup.Group
	state  json.RawMessage

	exitOnce sync.Once
	exitErr  error

	mu       sync.Mutex
	stopping bool // no new Exec
	usage    sandbox.Usage
	execs    sync.WaitGroup
	execSeq  int

	stopMu  sync.Mutex // serializes Stop
	stopped bool
	stopErr error
}

func newSandbox(d *Driver, id, dir string, b bundleSpec, l sandbox.Limits, r *runner, t *teardown) *gvSandbox {
	s := &gvSandbox{d: d, id: id, dir: dir, bundle: b, limits: l, runner: r, t: t, cg: t.cg}
	s.state, _ = json.Marshal(state{ID: id, Dir: dir, Cgroup: cgroupName(id), SentryPID: r.sentryPID}) // strings and ints always encode
	t.grace = d.grace
	return s
}

// ID returns the Spec's ID.
func (s *gvSandbox) ID() string { return s.id }

// DialContext connects to port on the sandbox's loopback ("tcp" and "tcp4" dial
// 127.0.0.1, "tcp6" dials ::1) from inside its network namespace.
func (s *gvSandbox) DialContext(ctx context.Context, network string, port int) (net.Conn, error) {
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
	c, err := s.t.net.Dial(ctx, network, net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("dial sandbox %s: %w", s.id, err)
	}
	return c, nil
}

// Done is closed when the agent has exited (runsc run returned).
func (s *gvSandbox) Done() <-chan struct{} { return s.runner.exited }

// ExitErr says how the agent ended (nil before Done and after exit status 0), naming an
// out-of-memory kill.
func (s *gvSandbox) ExitErr() error {
	if !s.runner.done() {
		return nil
	}
	s.exitOnce.Do(func() { s.exitErr = s.describeExit() })
	return s.exitErr
}

func (s *gvSandbox) describeExit() error {
	status := runscStatus(s.runner.waitErr)
	ee := exitError(status)
	if status == runscFailure {
		if msg := runscError(s.runner.stderr.String(), runFailed); msg != "" {
			ee.Detail = "runsc: " + msg
		}
	}
	if s.runner.oomKills > 0 {
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

// Usage reads the sandbox's cgroup: the sentry, its gofer and the processes that run the
// agent's code. Once Stop has begun it returns the last reading.
func (s *gvSandbox) Usage(ctx context.Context) (sandbox.Usage, error) {
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

func (s *gvSandbox) read() (sandbox.Usage, error) {
	st, err := s.cg.Stats()
	if err != nil {
		return sandbox.Usage{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.usage.CPUTime = max(s.usage.CPUTime, st.CPUTime)
	s.usage.MemoryBytes = st.MemoryBytes
	s.usage.MemoryPeakBytes = max(s.usage.MemoryPeakBytes, st.MemoryPeakBytes, st.MemoryBytes)
	return s.usage, nil
}

// state is what Reclaim needs after a crash.
type state struct {
	ID        string `json:"id"`
	Dir       string `json:"dir"`    // StateDir/sandboxes/<id>: bundle and runsc --root
	Cgroup    string `json:"cgroup"` // relative to every hierarchy's root
	SentryPID int    `json:"sentry_pid"`
}

// State returns {id, dir, cgroup, sentry_pid} for Driver.Reclaim.
func (s *gvSandbox) State() json.RawMessage { return s.state }

// Stop sends SIGTERM to the agent, SIGKILLs the sentry after the grace period (or when ctx
// ends), waits for runsc to exit, and removes runsc's leftovers, the cgroup, the network
// namespace and the sandbox's directory. It is idempotent; concurrent calls wait for the
// first. If the teardown fails it returns the error and may be called again.
func (s *gvSandbox) Stop(ctx context.Context) error {
	s.stopMu.Lock()
	defer s.stopMu.Unlock()
	if s.stopped {
		return s.stopErr
	}
	s.mu.Lock()
	s.stopping = true
	s.mu.Unlock()
	_, _ = s.read() // the final reading Usage returns from now on

	err := s.t.run(ctx)
	s.execs.Wait() // each Exec's runsc ends with the sandbox
	if err != nil {
		return fmt.Errorf("stop sandbox %s: %w", s.id, err)
	}
	s.stopped = true
	return nil
}

var _ sandbox.Sandbox = (*gvSandbox)(nil)
