package linuxns

import (
	"errors"
	"fmt"
	"os"
	"path"
	"runtime"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"berth.dev/berth/internal/sandbox/seccomp"
)

// init turns a re-executed Berth (argv[0] initArg or enterArg) into a sandbox init or an
// Exec helper before anything else runs. It never returns in that case: it execs the agent
// or reports the failure on fd 4 and exits.
func init() {
	if len(os.Args) == 0 || (os.Args[0] != initArg && os.Args[0] != enterArg) {
		return
	}
	// Package init runs on the main thread with it locked; keep it locked: namespaces,
	// capabilities, no_new_privs and the seccomp filter are per thread, and exec replaces
	// the process from this one.
	runtime.LockOSThread()
	err := childMain(os.Args[0] == enterArg)
	report(err)
	os.Exit(1)
}

// programError is a failure that is the caller's: the program cannot be run.
type programError struct{ err error }

func (e programError) Error() string { return e.err.Error() }
func (e programError) Unwrap() error { return e.err }

// badProgramTag starts a report of an errProgram failure on the error pipe.
const badProgramTag = "program:"

// report writes err on the error pipe for the parent.
func report(err error) {
	f := os.NewFile(errorFD, "errors")
	msg := err.Error()
	if errors.As(err, new(programError)) {
		msg = badProgramTag + msg
	}
	_, _ = f.WriteString(msg)
	_ = f.Close()
}

func childMain(enter bool) error {
	if _, err := unix.FcntlInt(errorFD, unix.F_SETFD, unix.FD_CLOEXEC); err != nil {
		return fmt.Errorf("error pipe: %w", err)
	}
	cfg, err := readConfig()
	if err != nil {
		return err
	}
	if enter {
		if err := enterRoot(cfg); err != nil {
			return err
		}
	} else {
		if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
			return fmt.Errorf("cgroup namespace: %w", err)
		}
		if err := buildRoot(cfg); err != nil {
			return err
		}
		if err := unix.Sethostname([]byte(cfg.Hostname)); err != nil {
			return fmt.Errorf("set hostname: %w", err)
		}
	}
	if err := unix.Chdir(cfg.WorkDir); err != nil {
		return programError{fmt.Errorf("working directory %s: %w", cfg.WorkDir, err)}
	}
	prog, err := lookPath(cfg.Argv[0], cfg.Env, cfg.WorkDir)
	if err != nil {
		return programError{err}
	}
	if err := dropPrivileges(cfg.UID, cfg.GID); err != nil {
		return err
	}
	if err := seccomp.Install(); err != nil {
		return err
	}
	if err := syscall.Exec(prog, cfg.Argv, cfg.Env); err != nil {
		return programError{fmt.Errorf("exec %s: %w", prog, err)}
	}
	return errors.New("exec returned")
}

// enterRoot puts an Exec helper, already in the sandbox's other namespaces, into its root.
func enterRoot(cfg *childConfig) error {
	root := fmt.Sprintf("/proc/%d/root", cfg.TargetPID)
	if err := unix.Chroot(root); err != nil {
		return fmt.Errorf("enter the sandbox's root: %w", err)
	}
	return nil
}

// dropPrivileges empties the capability bounding set of this thread, becomes uid:gid for
// every thread (which clears the effective and permitted sets), and sets no_new_privs.
func dropPrivileges(uid, gid int) error {
	last, err := lastCap()
	if err != nil {
		return err
	}
	for c := 0; c <= last; c++ {
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("drop capability %d: %w", c, err)
		}
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("clear ambient capabilities: %w", err)
	}
	if err := syscall.Setgroups(nil); err != nil {
		return fmt.Errorf("setgroups: %w", err)
	}
	if err := syscall.Setresgid(gid, gid, gid); err != nil {
		return fmt.Errorf("setgid %d: %w", gid, err)
	}
	if err := syscall.Setresuid(uid, uid, uid); err != nil {
		return fmt.Errorf("setuid %d: %w", uid, err)
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("no_new_privs: %w", err)
	}
	return nil
}

func lastCap() (int, error) {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		return 63, nil //nolint:nilerr // an old kernel without the file: try every bit
	}
	var n int
	if _, err := fmt.Sscanf(strings.TrimSpace(string(b)), "%d", &n); err != nil {
		return 0, fmt.Errorf("cap_last_cap: %w", err)
	}
	return n, nil
}

// lookPath resolves argv[0] in the (already entered) root: a name with a slash is taken
// relative to dir, a bare name is searched in the agent's PATH.
func lookPath(name string, env []string, dir string) (string, error) {
	if strings.Contains(name, "/") {
		p := name
		if !path.IsAbs(p) {
			p = path.Join(dir, p)
		}
		if err := executable(p); err != nil {
			return "", fmt.Errorf("program %s: %w", name, err)
		}
		return p, nil
	}
	pathEnv := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			pathEnv = v
		}
	}
	for _, d := range strings.Split(pathEnv, ":") {
		if d == "" || !path.IsAbs(d) {
			continue
		}
		p := path.Join(d, name)
		if executable(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("program %s: not found in PATH %s", name, pathEnv)
}

func executable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", p)
	}
	return nil
}
