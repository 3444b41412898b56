package gvisor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/sandbox/cgroup"
	"berth.dev/berth/internal/sandbox/netns"
	"berth.dev/berth/internal/tailbuf"
)

// ioDrain bounds how long reaping runsc waits for output pipes a leftover process holds.
const ioDrain = time.Second

// cleanupTimeout bounds the teardown after a failed Start.
const cleanupTimeout = 30 * time.Second

// Files in a sandbox's directory; the directory itself is the OCI bundle.
const (
	configFile  = "config.json"
	runscRoot   = "runsc" // runsc --root
	sandboxPID  = "sandbox.pid"
	stderrTailN = 4 << 10 // runsc's last words kept for Start's error
)

// start runs the sandbox in dir (which it removes again on error).
func (d *Driver) start(ctx context.Context, spec sandbox.Spec, dir string) (_ *gvSandbox, err error) {
	limits := d.limitsFor(spec)
	t := &teardown{d: d, id: spec.ID, dir: dir}
	defer func() {
		if err != nil {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
			defer cancel()
			if cerr := t.run(cctx); cerr != nil {
				err = errors.Join(err, fmt.Errorf("clean up: %w", cerr))
			}
		}
	}()
	// The group exists before runsc starts, so runsc only joins it and leaves it in place
	// when the sandbox ends: its accounting (an OOM kill) stays readable until Stop.
	t.cg, err = d.cgroups.Create(cgroupName(spec.ID), cgroup.Limits{CPUs: limits.CPUs, MemoryBytes: limits.MemoryBytes, Pids: hostPids(limits.Pids)})
	if err != nil {
		return nil, err
	}
	t.net, err = netns.Prepare(ctx, d.network, spec.ID, spec.Network)
	if err != nil {
		return nil, fmt.Errorf("network: %w", err)
	}
	b := d.bundleFor(spec, limits, t.net)
	if err := writeJSON(filepath.Join(dir, configFile), ociSpec(b)); err != nil {
		return nil, err
	}
	if err := os.Mkdir(filepath.Join(dir, runscRoot), 0o700); err != nil {
		return nil, err
	}
	fifo, err := newPIDFIFO(filepath.Join(dir, sandboxPID))
	if err != nil {
		return nil, err
	}
	defer fifo.close()

	tail := tailbuf.New(stderrTailN, spec.Stderr)
	cmd := exec.Command(d.runsc.path, d.runsc.args(filepath.Join(dir, runscRoot), //nolint:gosec // G204: runsc is the configured runtime
		"run", "--bundle", dir, "--pid-file", fifo.path, spec.ID)...)
	cmd.Env = []string{}
	cmd.Stdout, cmd.Stderr = spec.Stdout, tail
	cmd.WaitDelay = ioDrain
	// runsc stays in the foreground as the parent of the sentry and the gofer. It dies
	// with the thread that forked it (Berth's death included); Reclaim then removes what
	// it leaves.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start runsc: %w", err)
	}
	r := &runner{stderr: tail, rs: d.runsc, root: filepath.Join(dir, runscRoot), id: spec.ID, cmd: cmd, cg: t.cg, exited: make(chan struct{})}
	t.runner = r
	go r.wait()

	select {
	case pid, ok := <-fifo.pid:
		if !ok {
			return nil, errors.New("runsc's pid file closed without a pid")
		}
		if err := r.pin(pid); err != nil {
			return nil, err
		}
	case <-r.exited:
		return nil, fmt.Errorf("runsc run: %w: %s", r.waitErr, tail.String())
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return newSandbox(d, spec.ID, dir, b, limits, r, t), nil
}

// runner is the foreground `runsc run` process of a sandbox.
type runner struct {
	stderr   *tailbuf.Buffer
	rs       *runsc
	root     string // runsc --root
	id       string
	cmd      *exec.Cmd
	cg       *cgroup.Group
	exited   chan struct{} // closed once runsc has exited and been reaped
	waitErr  error         // set before exited is closed
	oomKills int64         // read from the cgroup before exited is closed

	sentryPID int
	sentry    *os.File // pidfd of the sentry (runsc's sandbox process), once known
}

func (r *runner) wait() {
	r.waitErr = r.cmd.Wait()
	if st, err := r.cg.Stats(); err == nil {
		r.oomKills = st.OOMKills
	}
	close(r.exited)
}

// pin opens a pidfd on the sentry, whose pid runsc wrote, and checks that it is runsc's
// child: then the pidfd can never signal a recycled pid. A sentry that is already gone (its
// agent could not even start, and runsc reaped it) pins nothing: the sandbox ends when
// runsc exits, and stop kills runsc itself.
func (r *runner) pin(pid int) error {
	fd, err := unix.PidfdOpen(pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("pidfd_open of the sentry %d: %w", pid, err)
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	ppid, err := parentOf(pid)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ESRCH) {
		_ = f.Close() // exited and reaped between the two calls
		return nil
	}
	if err != nil || ppid != r.cmd.Process.Pid {
		_ = f.Close()
		return fmt.Errorf("sentry %d is not a child of runsc %d (parent %d, %w)", pid, r.cmd.Process.Pid, ppid, err)
	}
	r.sentryPID, r.sentry = pid, f
	return nil
}

// done reports whether runsc has exited.
func (r *runner) done() bool {
	select {
	case <-r.exited:
		return true
	default:
		return false
	}
}

// signalSentry sends sig to the sentry, which ends every process of the sandbox at once
// for SIGKILL.
func (r *runner) signalSentry(sig unix.Signal) {
	if r.sentry != nil {
		_ = unix.PidfdSendSignal(int(r.sentry.Fd()), sig, nil, 0)
	}
}

// stop ends runsc: SIGTERM to the agent (runsc kill), then after grace (or when
// ctx ends) SIGKILL to the sentry, which takes every process of the sandbox with it, and
// runsc exits; runsc itself is killed only if it does not. It returns once runsc has been
// reaped or ctx has ended.
func (r *runner) stop(ctx context.Context, grace time.Duration) error {
	if r.done() {
		return nil
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	if grace > 0 && r.sentry != nil {
		// Not a signal to runsc run itself: it would forward it, but then exit without
		// reaping the sentry or deleting the container.
		_ = r.kill(ctx, "TERM")
		select {
		case <-r.exited:
			return nil
		case <-t.C:
		case <-ctx.Done():
		}
	}
	r.signalSentry(unix.SIGKILL)
	if r.sentry == nil { // runsc had not created the sandbox yet: nothing else to kill
		_ = r.cmd.Process.Kill()
	}
	t.Reset(5 * time.Second)
	select {
	case <-r.exited:
		return nil
	case <-t.C:
	case <-ctx.Done():
	}
	_ = r.cmd.Process.Kill()
	select {
	case <-r.exited:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("runsc %d did not exit: %w", r.cmd.Process.Pid, ctx.Err())
	}
}

// kill runs `runsc kill <id> <sig>`, which signals the agent.
func (r *runner) kill(ctx context.Context, sig string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return r.rs.run(ctx, r.root, "kill", r.id, sig)
}

// release closes the sentry's pidfd; call it once runsc has exited.
func (r *runner) release() {
	if r.sentry != nil {
		_ = r.sentry.Close()
		r.sentry = nil
	}
}

// parentOf reads the parent pid of pid from /proc.
func parentOf(pid int) (int, error) {
	st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces and parentheses: fields count from the
	// last ')'; the state is field 3 and the parent pid field 4.
	f := strings.Fields(string(st[bytes.LastIndexByte(st, ')')+1:]))
	if len(f) < 2 {
		return 0, fmt.Errorf("parse /proc/%d/stat: %q", pid, st)
	}
	return strconv.Atoi(f[1])
}
