package microvm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/vmm"
)

// Reclaim implements sandbox.Reclaimer: it kills the QEMU process named by state (if that
// pid still is the same QEMU: same start time, and the sandbox's directory in its
// environment), waits for it to exit, and removes the directory.
func (d *Driver) Reclaim(ctx context.Context, state json.RawMessage) error {
	var st reclaimState
	if err := json.Unmarshal(state, &st); err != nil {
		return fmt.Errorf("microvm: reclaim: %w: %w", errdefs.ErrInvalidArgument, err)
	}
	if st.ID == "" || st.Dir != filepath.Join(d.cfg.StateDir, st.ID) {
		return fmt.Errorf("microvm: reclaim: %w: state names %q, not a sandbox of %s", errdefs.ErrInvalidArgument, st.Dir, d.cfg.StateDir)
	}
	if st.PID > 0 {
		if err := killVMM(ctx, st); err != nil {
			return fmt.Errorf("microvm: reclaim %s: %w", st.ID, err)
		}
	}
	if err := os.RemoveAll(st.Dir); err != nil {
		return fmt.Errorf("microvm: reclaim %s: %w", st.ID, err)
	}
	return nil
}

// killVMM kills the VMM process of st if it is still alive and waits for it to exit.
func killVMM(ctx context.Context, st reclaimState) error {
	state, start, err := procStat(st.PID)
	if errors.Is(err, fs.ErrNotExist) || err == nil && (start != st.Start || state == "Z") {
		return nil
	}
	if err != nil {
		return err
	}
	env, err := os.ReadFile("/proc/" + strconv.Itoa(st.PID) + "/environ")
	if err != nil || !bytes.Contains(append([]byte{0}, env...), []byte("\x00"+vmm.DirEnv+"="+st.Dir+"\x00")) {
		return nil // another process took the pid
	}
	fd, err := unix.PidfdOpen(st.PID, 0)
	if err != nil {
		if errors.Is(err, unix.ESRCH) {
			return nil
		}
		return fmt.Errorf("pidfd_open: %w", err)
	}
	defer func() { _ = unix.Close(fd) }()
	if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("kill: %w", err)
	}
	// The pidfd becomes readable when the process exits (whoever reaps it).
	for {
		ms := -1
		if dl, ok := ctx.Deadline(); ok {
			ms = max(int(time.Until(dl).Milliseconds()), 0)
		}
		n, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, ms)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("wait for exit: %w", err)
		}
		if n == 0 {
			return fmt.Errorf("wait for exit: %w", context.DeadlineExceeded)
		}
		return nil
	}
}
