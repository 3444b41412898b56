package gvisor

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// cgroupParent holds the driver's groups in every hierarchy.
const cgroupParent = "berth-gvisor"

// cgroupName is the group of sandbox id, relative to the root of each hierarchy (runsc
// gets it as the absolute cgroupsPath "/"+name).
func cgroupName(id string) string { return cgroupParent + "/" + id }

// cgroupMounts lists the mount points of every cgroup hierarchy (v1 and v2), named
// systemd, freezer, devices and the others included: runsc creates its group in all of
// them, and package cgroup only knows the ones it uses.
func cgroupMounts() ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		fields, tail := strings.Fields(pre), strings.Fields(post)
		if !ok || len(fields) < 5 || len(tail) < 1 {
			continue
		}
		if tail[0] == "cgroup" || tail[0] == "cgroup2" {
			out = append(out, strings.ReplaceAll(fields[4], `\040`, " "))
		}
	}
	return out, sc.Err()
}

// removeCgroupDirs removes the directory of group name in every hierarchy; runsc leaves
// them behind when it is killed. A directory still busy (its last processes are being torn
// down) is retried until ctx ends; a missing one is fine.
func removeCgroupDirs(ctx context.Context, name string) error {
	mounts, err := cgroupMounts()
	if err != nil {
		return fmt.Errorf("find cgroup hierarchies: %w", err)
	}
	var errs []error
	for _, m := range mounts {
		dir := filepath.Join(m, name)
		for delay := time.Millisecond; ; delay = min(2*delay, 50*time.Millisecond) {
			err := unix.Rmdir(dir)
			if err == nil || errors.Is(err, unix.ENOENT) {
				break
			}
			if !errors.Is(err, unix.EBUSY) {
				errs = append(errs, fmt.Errorf("remove %s: %w", dir, err))
				break
			}
			t := time.NewTimer(delay)
			select {
			case <-ctx.Done():
				t.Stop()
				return errors.Join(append(errs, fmt.Errorf("remove %s: %w: %w", dir, err, ctx.Err()))...)
			case <-t.C:
			}
		}
	}
	return errors.Join(errs...)
}
