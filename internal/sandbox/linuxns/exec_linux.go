package linuxns

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/sandbox"
)

// enterNamespaces are the namespaces an Exec helper joins, besides the network namespace,
// which the sandbox's Network enters.
var enterNamespaces = []struct {
	name string
	flag int
}{
	{"pid", unix.CLONE_NEWPID}, // for the helper's children: the helper itself is forked after
	{"uts", unix.CLONE_NEWUTS},
	{"ipc", unix.CLONE_NEWIPC},
	{"cgroup", unix.CLONE_NEWCGROUP},
}

// Exec runs a command inside the sandbox: in its namespaces, root and cgroup, as the sandbox
// user, under the same seccomp filter. It returns the exit status, or 128+n if signal n
// killed the command; if ctx ends first the command is killed and ctx's error returned.
func (s *nsSandbox) Exec(ctx context.Context, req sandbox.ExecRequest) (int, error) {
	if len(req.Command) == 0 || req.Command[0] == "" {
		return -1, fmt.Errorf("exec in sandbox %s: %w: empty command", s.id, errdefs.ErrInvalidArgument)
	}
	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		return -1, fmt.Errorf("exec in sandbox %s: %w: sandbox is stopping", s.id, errdefs.ErrConflict)
	}
	s.execs.Add(1)
	s.mu.Unlock()
	defer s.execs.Done()
	wd := req.WorkDir
	if wd == "" {
		wd = s.cfg.WorkDir
	} else if !path.IsAbs(wd) {
		wd = path.Join(s.cfg.WorkDir, wd)
	}
	cfg := &childConfig{
		TargetPID: s.c.pid,
		Argv:      req.Command,
		Env:       append(append([]string{}, s.cfg.Env...), req.Env...),
		WorkDir:   wd,
		UID:       s.cfg.UID,
		GID:       s.cfg.GID,
	}
	cmd := &exec.Cmd{
		Path:      "/proc/self/exe",
		Args:      []string{enterArg},
		Env:       []string{},
		Stdin:     req.Stdin,
		Stdout:    req.Stdout,
		Stderr:    req.Stderr,
		WaitDelay: ioDrain,
		// No Pdeathsig: Go's child compares getppid() with the forking process, which a
		// process in another PID namespace reads as 0, and would kill itself. The helper
		// dies with the sandbox instead: it is in the sandbox's cgroup and PID namespace.
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	c, err := launch(ctx, s.entered(), cmd, s.cg, cfg)
	if err != nil {
		return -1, fmt.Errorf("exec in sandbox %s: %w", s.id, err)
	}
	select {
	case <-c.exited:
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-c.exited
		return -1, fmt.Errorf("exec in sandbox %s: %w", s.id, ctx.Err())
	}
	if ps := cmd.ProcessState; ps != nil {
		if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return ps.ExitCode(), nil
	}
	return -1, fmt.Errorf("exec in sandbox %s: %w", s.id, c.waitErr)
}

// entered is the sandbox's Network, whose Do additionally enters the PID, UTS, IPC and
// cgroup namespaces of the agent, so that a process forked in fn lives in all of them.
func (s *nsSandbox) entered() sandbox.Network { return enteringNetwork{s.network, s.c.pid} }

type enteringNetwork struct {
	sandbox.Network
	pid int
}

func (e enteringNetwork) Do(fn func() error) error {
	return e.Network.Do(func() error {
		// On the network's locked thread: enter, run, leave. A thread that cannot return
		// to its own namespaces must not run other goroutines: lock it for good so the
		// runtime discards it when Do's goroutine ends.
		restore, err := enterThread(e.pid)
		if err != nil {
			return err
		}
		ferr := fn()
		if err := restore(); err != nil {
			runtime.LockOSThread()
			return errors.Join(ferr, err)
		}
		return ferr
	})
}

// enterThread moves the calling (locked) thread into pid's namespaces and returns how to
// move it back.
func enterThread(pid int) (restore func() error, err error) {
	var origs, targets []int
	closeAll := func() {
		for _, fd := range append(origs, targets...) {
			_ = unix.Close(fd)
		}
	}
	for _, ns := range enterNamespaces {
		o, err := unix.Open("/proc/thread-self/ns/"+ns.name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("open own %s namespace: %w", ns.name, err)
		}
		origs = append(origs, o)
		t, err := unix.Open(fmt.Sprintf("/proc/%d/ns/%s", pid, ns.name), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("open the sandbox's %s namespace: %w", ns.name, err)
		}
		targets = append(targets, t)
	}
	restore = func() error {
		defer closeAll()
		var errs []error
		for i, ns := range enterNamespaces {
			if err := unix.Setns(origs[i], ns.flag); err != nil {
				errs = append(errs, fmt.Errorf("return to own %s namespace: %w", ns.name, err))
			}
		}
		return errors.Join(errs...)
	}
	for i, ns := range enterNamespaces {
		if err := unix.Setns(targets[i], ns.flag); err != nil {
			return nil, errors.Join(fmt.Errorf("enter the sandbox's %s namespace: %w", ns.name, err), restore())
		}
	}
	return restore, nil
}

var _ sandbox.Execer = (*nsSandbox)(nil)
