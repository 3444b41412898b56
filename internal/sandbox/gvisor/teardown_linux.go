package gvisor

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/sandbox/cgroup"
)

// teardown removes everything of one sandbox; Start (on error), Stop and Reclaim share it.
// Every step tolerates what an earlier, partial teardown already removed.
type teardown struct {
	d      *Driver
	id     string
	dir    string
	grace  time.Duration   // SIGTERM first, if the agent runs
	runner *runner         // nil in Reclaim: runsc belonged to another process
	cg     *cgroup.Group   // nil: opened by name
	net    sandbox.Network // nil in Reclaim: the namespace died with the process that held it
}

func (t *teardown) run(ctx context.Context) error {
	var errs []error
	if t.runner != nil {
		if err := t.runner.stop(ctx, t.grace); err != nil {
			errs = append(errs, err)
		}
		t.runner.release()
	}
	// When runsc was killed (Berth crashed, or it did not exit), its sentry and gofer may
	// live on: they are in the sandbox's cgroup, and die with it. runsc's own state is
	// files in the sandbox's directory, removed below; `runsc delete` is not used, as it
	// would wait for a sentry whose parent is blocked on the container's lock.
	if t.d.cgroups != nil {
		cg := t.cg
		if cg == nil {
			cg = t.d.cgroups.Open(cgroupName(t.id))
		}
		if err := cg.Destroy(ctx); err != nil { // kills what is left: sentry, gofer
			errs = append(errs, err)
		}
	}
	if err := removeCgroupDirs(ctx, cgroupName(t.id)); err != nil {
		errs = append(errs, err)
	}
	if t.net != nil {
		if err := t.net.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := removeTree(t.dir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// removeTree unmounts whatever is mounted below dir (runsc may leave a bind-mounted
// namespace file in its root) and removes it. A missing dir is fine.
func removeTree(dir string) error {
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	mounts, err := mountsBelow(dir)
	if err != nil {
		return err
	}
	for i := len(mounts) - 1; i >= 0; i-- {
		if err := unix.Unmount(mounts[i], unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("unmount %s: %w", mounts[i], err)
		}
	}
	// A runsc that is still tearing the container down may add a file meanwhile: retry.
	for range 5 {
		if err = os.RemoveAll(dir); err == nil {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("remove sandbox directory: %w", err)
}

// mountsBelow lists the mount points at or below dir, in mount order.
func mountsBelow(dir string) ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		mp := strings.ReplaceAll(fields[4], `\040`, " ")
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			out = append(out, mp)
		}
	}
	return out, sc.Err()
}
