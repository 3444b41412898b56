package process

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"berth.dev/berth/internal/errdefs"
)

// state is what Sandbox.State records for Reclaim.
type state struct {
	PID       int    `json:"pid"`        // the agent's main process, leader of the session
	PGID      int    `json:"pgid"`       // its process group (= PID)
	StartTime uint64 `json:"start_time"` // clock ticks after boot, /proc/<pid>/stat field 22
	BootID    string `json:"boot_id"`    // pids and start times mean nothing across boots
	WorkDir   string `json:"workdir"`    // StateDir/<id>
	Cwd       string `json:"cwd"`        // the agent's working directory on the host
}

// Reclaim kills and wipes a sandbox described by Sandbox.State, typically one left behind
// by a Berth process that crashed. A pid is never signalled on the pid alone:
//
//   - If the main process still exists with the recorded start time, it reserves its
//     session id, and every process of that session is killed.
//   - If another process now has that pid, the id was recycled, which the kernel allows
//     only once no process of the old session is left: nothing is killed.
//   - If the pid is free (the usual case: the parent-death signal killed the main process
//     when Berth died, and init reaped it), survivors of the session are killed only if
//     they started after the main process and run in the sandbox's own working directory,
//     which no unrelated process would. Survivors of an image sandbox (whose working
//     directory is the shared image tree) cannot be told apart and are left alone.
//
// Then the working directory is removed; it must be a directory directly under this
// driver's StateDir. A sandbox that is already gone is not an error.
func (d *Driver) Reclaim(ctx context.Context, raw json.RawMessage) error {
	var st state
	if err := json.Unmarshal(raw, &st); err != nil {
		return fmt.Errorf("reclaim sandbox: %w: state: %w", errdefs.ErrInvalidArgument, err)
	}
	dir := filepath.Clean(st.WorkDir)
	if !filepath.IsAbs(dir) || filepath.Dir(dir) != d.stateDir {
		return fmt.Errorf("reclaim sandbox: %w: working directory %q is not under %s", errdefs.ErrInvalidArgument, st.WorkDir, d.stateDir)
	}
	if keep, err := st.survivors(); err != nil {
		return fmt.Errorf("reclaim sandbox %s: %w", filepath.Base(dir), err)
	} else if keep != nil {
		if err := terminate(ctx, keep, nil, 0); err != nil {
			return fmt.Errorf("reclaim sandbox %s: %w", filepath.Base(dir), err)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("reclaim sandbox %s: %w", filepath.Base(dir), err)
	}
	return nil
}

// survivors returns a filter for the sandbox's processes that may be killed, or nil if
// none may.
func (st state) survivors() (func(procStat) bool, error) {
	if st.PID <= 0 || st.BootID == "" || st.BootID != bootID() {
		return nil, nil
	}
	leader, err := readStat(st.PID)
	switch {
	case err == nil && leader.startTime == st.StartTime:
		return inSessions(st.PID), nil
	case err == nil:
		return nil, nil // recycled
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	if st.Cwd == "" || st.Cwd != filepath.Clean(st.WorkDir) {
		return nil, nil
	}
	return func(p procStat) bool {
		return p.session == st.PID && p.startTime >= st.StartTime && cwdWithin(p.pid, st.Cwd)
	}, nil
}

// cwdWithin reports whether pid's working directory is dir or below it.
func cwdWithin(pid int, dir string) bool {
	cwd, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/cwd")
	if err != nil {
		return false
	}
	cwd = strings.TrimSuffix(cwd, " (deleted)")
	_, ok := within(dir, cwd)
	return ok
}
