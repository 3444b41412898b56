package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// status reports the credentials and confinement of this process, from system calls
// (getresuid, getresgid, capget, prctl) and from /proc/self/status, which not every
// kernel (gVisor's) fills completely.
func status() map[string]any {
	m := map[string]any{"uid": os.Getuid(), "euid": os.Geteuid(), "gid": os.Getgid(), "egid": os.Getegid()}
	r, e, sv := unix.Getresuid()
	m["resuid"] = []int{r, e, sv}
	r, e, sv = unix.Getresgid()
	m["resgid"] = []int{r, e, sv}
	maps.Copy(m, capSets())
	if nnp, err := unix.PrctlRetInt(unix.PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0); err == nil {
		m["nnp"] = nnp
	}
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		m["error"] = err.Error()
		return m
	}
	for line := range strings.Lines(string(raw)) {
		k, v, ok := strings.Cut(line, ":")
		switch k {
		case "Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp":
			if ok {
				m[k] = strings.Join(strings.Fields(v), " ")
			}
		}
	}
	return m
}

// capSets reads the capability sets with capget(2) and prctl(2), as /proc/self/status
// shows them (hex): cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb.
func capSets() map[string]any {
	m := map[string]any{}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err == nil {
		join := func(lo, hi uint32) string { return fmt.Sprintf("%016x", uint64(hi)<<32|uint64(lo)) }
		m["cap_inh"] = join(data[0].Inheritable, data[1].Inheritable)
		m["cap_prm"] = join(data[0].Permitted, data[1].Permitted)
		m["cap_eff"] = join(data[0].Effective, data[1].Effective)
	}
	var bnd, amb uint64
	for c := range 64 {
		in, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(c), 0, 0, 0)
		if err != nil {
			break // past the last capability this kernel knows
		}
		bnd |= uint64(in) << c
		if set, err := unix.PrctlRetInt(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_IS_SET, uintptr(c), 0, 0); err == nil {
			amb |= uint64(set) << c
		}
	}
	m["cap_bnd"], m["cap_amb"] = fmt.Sprintf("%016x", bnd), fmt.Sprintf("%016x", amb)
	return m
}

// mountAttempts tries mount(2) and the new mount API's fsopen(2). The target directory
// is created if need be; whatever mounted is unmounted again at once.
func mountAttempts(target string) map[string]any {
	_ = os.MkdirAll(target, 0o755)
	err := unix.Mount("tmpfs", target, "tmpfs", 0, "size=1m")
	if err == nil {
		_ = unix.Unmount(target, unix.MNT_DETACH)
	}
	fd, ferr := unix.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC)
	if ferr == nil {
		_ = unix.Close(fd)
	}
	return map[string]any{"mount": result(err), "fsopen": result(ferr)}
}

var cloneFlagNames = map[string]uintptr{
	"CLONE_NEWUSER": unix.CLONE_NEWUSER, "CLONE_NEWNS": unix.CLONE_NEWNS, "CLONE_NEWNET": unix.CLONE_NEWNET,
	"CLONE_NEWPID": unix.CLONE_NEWPID, "CLONE_NEWUTS": unix.CLONE_NEWUTS, "CLONE_NEWIPC": unix.CLONE_NEWIPC,
	"CLONE_NEWCGROUP": unix.CLONE_NEWCGROUP,
}

func cloneFlags(names []string) (uintptr, error) {
	var flags uintptr
	for _, n := range names {
		f, ok := cloneFlagNames[n]
		if !ok {
			return 0, errors.New("unknown clone flag " + n)
		}
		flags |= f
	}
	return flags, nil
}

// unshareOnThread calls unshare(flags) on a locked thread that is then thrown away, so the
// rest of the agent keeps its namespaces. (A multi-threaded process cannot unshare a user
// namespace at all: cloneSelf is the real attempt for CLONE_NEWUSER.)
func unshareOnThread(flags uintptr) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		errc <- unix.Unshare(int(flags))
	}()
	return <-errc
}

// cloneSelf starts a copy of this binary in new namespaces (clone(2) with flags), which
// prints its status and exits.
func cloneSelf(flags uintptr) map[string]any {
	exe, err := os.Executable()
	if err != nil {
		return result(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), "TESTAGENT_START=status")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: flags}
	outb, err := cmd.Output()
	return result(err, "output", string(outb))
}

// execProbe runs path (relative paths are taken next to this binary) with the extra
// environment env, and reports its exit code and output.
func execProbe(path string, env []string) map[string]any {
	if !filepath.IsAbs(path) {
		exe, err := os.Executable()
		if err != nil {
			return result(err)
		}
		path = filepath.Join(filepath.Dir(exe), path)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := -1
	if cmd.ProcessState != nil {
		code = cmd.ProcessState.ExitCode()
	}
	return result(err, "path", path, "exit_code", code, "stdout", stdout.String(), "stderr", stderr.String())
}

// printStatus writes this process's status as JSON to stdout (TESTAGENT_START=status).
func printStatus() {
	_ = json.NewEncoder(os.Stdout).Encode(status())
}
