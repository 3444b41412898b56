package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"berth.dev/berth/internal/sandbox/seccomp"
)

// confineThread confines the calling thread, and so every process forked from it (the
// agent and Exec commands): it empties the capability bounding set and the ambient set,
// sets no_new_privs, and installs the seccomp deny-list. The thread itself stays root
// with its effective capabilities (it still forks, and sets each child's uid and gid);
// children lose every capability when they become the session's user, can never regain
// one (no setuid-root or file-capability binary gives anything under no_new_privs and an
// empty bounding set, and the guest's disks are mounted nosuid besides), and cannot make
// the denied system calls. All three are per-thread attributes: the rest of PID 1 keeps
// what it needs to mount disks, set the clock and reseed randomness.
func confineThread() error {
	last, err := lastCap()
	if err != nil {
		return err
	}
	for c := 0; c <= last; c++ {
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("confine: drop capability %d from the bounding set: %w", c, err)
		}
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("confine: clear ambient capabilities: %w", err)
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("confine: no_new_privs: %w", err)
	}
	return seccomp.Install()
}

// lastCap is the highest capability number the kernel knows.
func lastCap() (int, error) {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		return 63, nil //nolint:nilerr // no such file: try every bit
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("confine: cap_last_cap: %w", err)
	}
	return n, nil
}
