package process

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"golang.org/x/sys/unix"
)

// signalPid sends sig to pid if it is alive and keep accepts it. The process is pinned
// with a pidfd before it is checked, so a pid recycled after a scan is never signalled.
// It reports whether the process was signalled.
func signalPid(pid int, keep func(procStat) bool, sig unix.Signal) (bool, error) {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		if errors.Is(err, unix.ESRCH) {
			return false, nil
		}
		return false, fmt.Errorf("pidfd_open %d: %w", pid, err)
	}
	defer func() { _ = unix.Close(fd) }()
	// If the pinned process died and its pid was reused, this reads the newcomer's stat;
	// then pidfd_send_signal below fails with ESRCH, because it targets the pinned one.
	st, err := readStat(pid)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, err
	}
	if st.dead() || !keep(st) {
		return false, nil
	}
	if err := unix.PidfdSendSignal(fd, sig, nil, 0); err != nil {
		if errors.Is(err, unix.ESRCH) {
			return false, nil
		}
		return false, fmt.Errorf("signal %d: %w", pid, err)
	}
	return true, nil
}

// signalAll sends sig to every live process that keep accepts and returns how many it
// signalled.
func signalAll(keep func(procStat) bool, sig unix.Signal) (int, error) {
	procs, err := scan(keep)
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, p := range procs {
		if p.dead() {
			continue
		}
		ok, err := signalPid(p.pid, keep, sig)
		if err != nil {
			errs = append(errs, err)
		}
		if ok {
			n++
		}
	}
	return n, errors.Join(errs...)
}

// alive counts the live processes keep accepts (zombies are dead: they hold no resources,
// and whoever is their parent reaps them).
func alive(keep func(procStat) bool) (int, error) {
	procs, err := scan(keep)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, p := range procs {
		if !p.dead() {
			n++
		}
	}
	return n, nil
}

// waitGone polls until no live process matches keep, d has passed or ctx is done, and
// reports whether they are gone.
func waitGone(ctx context.Context, keep func(procStat) bool, d time.Duration) (bool, error) {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	poll := time.Millisecond
	for {
		n, err := alive(keep)
		if err != nil || n == 0 {
			return n == 0, err
		}
		t := time.NewTimer(poll)
		select {
		case <-t.C:
		case <-deadline.C:
			t.Stop()
			return false, nil
		case <-ctx.Done():
			t.Stop()
			return false, nil
		}
		poll = min(2*poll, 20*time.Millisecond)
	}
}

// terminate ends every process keep accepts: SIGTERM, up to grace to exit, then SIGKILL
// until none is left (grace 0 sends SIGKILL at once). ctx cuts the grace short. groups are process groups that are
// safe to signal as a whole (their leaders are unreaped children of ours, so the ids cannot
// have been recycled); a group signal reaches processes that fork during the scan. It
// returns an error if processes survive SIGKILL until ctx ends (and at least a second).
func terminate(ctx context.Context, keep func(procStat) bool, groups []int, grace time.Duration) error {
	signal := func(sig unix.Signal) (int, error) {
		for _, g := range groups {
			_ = unix.Kill(-g, sig) // ESRCH: the group is empty
		}
		return signalAll(keep, sig)
	}
	if grace > 0 {
		n, err := signal(unix.SIGTERM)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if gone, err := waitGone(ctx, keep, grace); gone || err != nil {
			return err
		}
	}
	// SIGKILL cannot be ignored, but a process in uninterruptible sleep dies late: keep
	// killing (new forks included) for at least killMin, and after that until ctx ends.
	const killMin = time.Second
	start := time.Now()
	for {
		n, err := signal(unix.SIGKILL)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if gone, err := waitGone(context.Background(), keep, 100*time.Millisecond); gone || err != nil {
			return err
		}
		if ctx.Err() != nil && time.Since(start) >= killMin {
			left, _ := alive(keep)
			return fmt.Errorf("%d processes still alive after SIGKILL: %w", left, ctx.Err())
		}
	}
}
