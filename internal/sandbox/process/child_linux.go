package process

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/sandbox/netns"
)

// ioDrain bounds how long reaping waits for output pipes that an escaped process still
// holds open (exec.Cmd.WaitDelay).
const ioDrain = time.Second

// child is a process the driver started in its own session. It is not reaped until reap,
// so until then its pid, and with it its process group and session id, cannot be
// recycled: signalling them is safe.
type child struct {
	cmd       *exec.Cmd
	pid       int
	startTime uint64 // clock ticks after boot
	pidfd     *os.File
	exited    chan struct{}      // closed when the process has exited (it is a zombie then)
	exitErr   *sandbox.ExitError // set before exited is closed
}

// startChild starts cmd in its own session, forked from a thread inside ns so that it
// lives in that network namespace, and watches for its exit.
func startChild(ns *netns.NS, cmd *exec.Cmd) (*child, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setsid = true
	// Sent when the forking thread exits; netns.Do's threads live on unless their
	// namespace cannot be restored, and then the start is reported as failed anyway.
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	cmd.WaitDelay = ioDrain
	if err := ns.Do(cmd.Start); err != nil {
		if cmd.Process != nil { // started, but the thread could not leave the namespace
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	c := &child{cmd: cmd, pid: cmd.Process.Pid, exited: make(chan struct{})}
	fail := func(err error) (*child, error) {
		_, _ = signalAll(inSessions(c.pid), unix.SIGKILL)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if c.pidfd != nil {
			_ = c.pidfd.Close()
		}
		return nil, fmt.Errorf("watch %s: %w", cmd.Path, err)
	}
	fd, err := unix.PidfdOpen(c.pid, unix.PIDFD_NONBLOCK)
	if err != nil {
		return fail(fmt.Errorf("pidfd_open: %w", err))
	}
	c.pidfd = os.NewFile(uintptr(fd), "pidfd")
	st, err := readStat(c.pid)
	if err != nil {
		return fail(err)
	}
	c.startTime = st.startTime
	go c.watch()
	return c, nil
}

// watch waits, without reaping, until the process exits; then records how it ended and
// closes exited. The pidfd is polled by the runtime's netpoller, so no thread blocks.
func (c *child) watch() {
	defer close(c.exited)
	var info unix.Siginfo
	exited := func(fd uintptr) bool {
		info = unix.Siginfo{}
		err := unix.Waitid(unix.P_PIDFD, int(fd), &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
		return err != nil || info.Signo != 0
	}
	rc, err := c.pidfd.SyscallConn()
	if err == nil {
		err = rc.Read(exited)
	}
	if err != nil { // not pollable: block a thread instead (Fd makes the pidfd blocking)
		fd := int(c.pidfd.Fd())
		for errors.Is(unix.Waitid(unix.P_PIDFD, fd, &info, unix.WEXITED|unix.WNOWAIT, nil), unix.EINTR) {
		}
	}
	// The zombie's stat still carries its wait status.
	st, err := readStat(c.pid)
	if err != nil {
		c.exitErr = &sandbox.ExitError{Code: -1}
		return
	}
	c.exitErr = sandbox.ExitStatus(syscall.WaitStatus(st.exitCode))
}

// done reports whether the process has exited.
func (c *child) done() bool {
	select {
	case <-c.exited:
		return true
	default:
		return false
	}
}

// reap waits for the exit, collects the zombie and the output copiers, and releases the
// pidfd. Call it once, after every process of the session is gone.
func (c *child) reap() error {
	<-c.exited
	err := c.cmd.Wait()
	_ = c.pidfd.Close()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) || errors.Is(err, exec.ErrWaitDelay) {
		err = nil
	}
	if err != nil {
		return fmt.Errorf("reap %d: %w", c.pid, err)
	}
	return nil
}
