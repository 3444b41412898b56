//go:build linux

package process_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/sandbox/process"
)

func entries(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{}
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

// shellSpec runs a host shell script as the agent.
func shellSpec(id, script string) sandbox.Spec {
	return sandbox.Spec{ID: id, Command: []string{"/bin/sh", "-c", script}, Env: []string{"PATH=/usr/bin:/bin"}}
}

func startSandbox(t *testing.T, d *process.Driver, spec sandbox.Spec) sandbox.Sandbox {
	t.Helper()
	sb, err := d.Start(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sb.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return sb
}

// alive reports whether pid runs and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return f[0] != "Z" && f[0] != "X"
}

func TestNew_EmptyStateDir(t *testing.T) {
	if _, err := process.New(process.Config{}); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Fatalf("New with no state directory = %v, want ErrInvalidArgument", err)
	}
}

func TestRegister_Process(t *testing.T) {
	d, err := sandbox.New("process", sandbox.Options{StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if d.Name() != process.Name {
		t.Fatalf("Name() = %q", d.Name())
	}
	want := sandbox.Capabilities{Isolation: "none", HostFilesystem: true, Exec: true, Reclaim: true, Egress: []sandbox.NetworkMode{sandbox.NetworkNone}}
	if diff := cmp.Diff(want, d.Capabilities()); diff != "" {
		t.Fatalf("Capabilities() (-want +got):\n%s", diff)
	}
}

func TestDriver_Start_Errors(t *testing.T) {
	skipUnlessNetns(t)
	stateDir := t.TempDir()
	d := newDriver(t, stateDir)
	running := startSandbox(t, d, shellSpec("taken", "exec sleep 300"))
	for _, tc := range []struct {
		name string
		spec sandbox.Spec
		want error
	}{
		{"empty id", shellSpec("", "true"), errdefs.ErrInvalidArgument},
		{"id with slash", shellSpec("a/b", "true"), errdefs.ErrInvalidArgument},
		{"id dot-dot", shellSpec("..", "true"), errdefs.ErrInvalidArgument},
		{"no command", sandbox.Spec{ID: "x"}, errdefs.ErrInvalidArgument},
		{"command not found", sandbox.Spec{ID: "x", Command: []string{"no-such-program"}, Env: []string{"PATH=/bin"}}, errdefs.ErrInvalidArgument},
		{"command not in rootfs", sandbox.Spec{ID: "x", RootFS: t.TempDir(), Command: []string{"/bin/sh"}}, errdefs.ErrInvalidArgument},
		{"bad env", sandbox.Spec{ID: "x", Command: []string{"/bin/true"}, Env: []string{"NOEQUALS"}}, errdefs.ErrInvalidArgument},
		{"public network", sandbox.Spec{ID: "x", Command: []string{"/bin/true"}, Network: sandbox.NetworkPolicy{Mode: sandbox.NetworkPublic}}, errdefs.ErrInvalidArgument},
		{"code dir missing", sandbox.Spec{ID: "x", CodeDir: "/no/such/dir", Command: []string{"./agent"}}, os.ErrNotExist},
		{"duplicate id", shellSpec("taken", "true"), errdefs.ErrConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sb, err := d.Start(t.Context(), tc.spec)
			if err == nil {
				_ = sb.Stop(t.Context())
				t.Fatal("Start succeeded")
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Start = %v, want %v", err, tc.want)
			}
			if diff := cmp.Diff([]string{"taken"}, entries(t, stateDir)); diff != "" {
				t.Fatalf("state directory after a failed Start (-want +got):\n%s", diff)
			}
		})
	}
	select {
	case <-running.Done():
		t.Fatal("a failed Start with the same id disturbed the running sandbox")
	default:
	}
}

func TestDriver_Start_CanceledContext(t *testing.T) {
	skipUnlessNetns(t)
	stateDir := t.TempDir()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := newDriver(t, stateDir).Start(ctx, shellSpec("x", "true")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Start = %v, want context.Canceled", err)
	}
	if names := entries(t, stateDir); len(names) != 0 {
		t.Fatalf("state directory = %v, want empty", names)
	}
}

// Stop sends SIGTERM first and SIGKILL only after the grace period, to the whole tree.
func TestSandbox_Stop_GraceThenKill(t *testing.T) {
	skipUnlessNetns(t)
	const grace = 300 * time.Millisecond
	d, err := process.New(process.Config{StateDir: t.TempDir(), StopGrace: grace})
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan string, 1)
	w := writerFunc(func(p []byte) { out <- string(p) })
	spec := shellSpec("stubborn", `trap "" TERM; sleep 300 & echo $!; wait`)
	spec.Stdout = w
	sb := startSandbox(t, d, spec)
	pid, err := strconv.Atoi(strings.TrimSpace(<-out))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := sb.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < grace {
		t.Errorf("Stop took %v, want at least the grace period %v (SIGTERM is ignored)", took, grace)
	}
	if alive(pid) {
		t.Errorf("the shell's child %d survived Stop", pid)
	}
	var exitErr *sandbox.ExitError
	if !errors.As(sb.ExitErr(), &exitErr) || exitErr.Signal != syscall.SIGKILL || exitErr.ExitCode() != -1 {
		t.Errorf("ExitErr() = %v, want signal: killed", sb.ExitErr())
	}
}

type writerFunc func([]byte)

func (f writerFunc) Write(p []byte) (int, error) {
	f(append([]byte(nil), p...))
	return len(p), nil
}

func TestSandbox_DialContext_BadArguments(t *testing.T) {
	skipUnlessNetns(t)
	sb := startSandbox(t, newDriver(t, t.TempDir()), shellSpec("x", "exec sleep 300"))
	for _, tc := range []struct {
		network string
		port    int
	}{{"udp", 8080}, {"tcp", 0}, {"tcp", 70000}} {
		c, err := sb.DialContext(t.Context(), tc.network, tc.port)
		if err == nil {
			_ = c.Close()
		}
		if !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("DialContext(%s, %d) = %v, want ErrInvalidArgument", tc.network, tc.port, err)
		}
	}
}

// What an Exec'd command leaves running in its session dies when the command returns.
func TestSandbox_Exec_KillsLeftovers(t *testing.T) {
	skipUnlessNetns(t)
	sb := startSandbox(t, newDriver(t, t.TempDir()), shellSpec("x", "exec sleep 300"))
	var out strings.Builder
	code, err := sb.(sandbox.Execer).Exec(t.Context(), sandbox.ExecRequest{
		Command: []string{"sh", "-c", "sleep 300 & echo $!"},
		Stdout:  &out,
	})
	if err != nil || code != 0 {
		t.Fatalf("Exec = %d, %v", code, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(out.String()))
	if err != nil {
		t.Fatal(err)
	}
	if alive(pid) {
		t.Fatalf("background process %d of an Exec'd command survived it", pid)
	}
}

func TestSandbox_Exec_AfterStop(t *testing.T) {
	skipUnlessNetns(t)
	sb := startSandbox(t, newDriver(t, t.TempDir()), shellSpec("x", "exec sleep 300"))
	if err := sb.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := sb.(sandbox.Execer).Exec(t.Context(), sandbox.ExecRequest{Command: []string{"true"}}); !errors.Is(err, errdefs.ErrConflict) {
		t.Fatalf("Exec after Stop = %v, want ErrConflict", err)
	}
}

// orphan starts, outside any sandbox, what a crash leaves: a session whose leader is gone
// (reaped) and whose child, running in cwd, survives. It returns the state a sandbox
// would have recorded for it and the orphan's pid.
func orphan(t *testing.T, workdir, cwd string) (json.RawMessage, int) {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", "sleep 300 & echo $!; exec sleep 0.2")
	cmd.Dir = cwd
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	var line [32]byte
	n, _ := stdout.Read(line[:])
	pid, err := strconv.Atoi(strings.TrimSpace(string(line[:n])))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	bootID, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	start, _ := strconv.ParseUint(f[19], 10, 64)
	state, err := json.Marshal(map[string]any{
		"pid": cmd.Process.Pid, "pgid": cmd.Process.Pid, "start_time": start,
		"boot_id": strings.TrimSpace(string(bootID)), "workdir": workdir, "cwd": workdir,
	})
	if err != nil {
		t.Fatal(err)
	}
	return state, pid
}

func TestDriver_Reclaim_Orphans(t *testing.T) {
	stateDir := t.TempDir()
	d := newDriver(t, stateDir)
	for _, tc := range []struct {
		name     string
		inside   bool // the orphan runs in the sandbox's working directory
		wantKill bool
	}{
		{"in the sandbox's directory", true, true},
		{"elsewhere", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			workdir := filepath.Join(stateDir, "sbx")
			if err := os.Mkdir(workdir, 0o750); err != nil {
				t.Fatal(err)
			}
			cwd := t.TempDir()
			if tc.inside {
				cwd = workdir
			}
			state, pid := orphan(t, workdir, cwd)
			if err := d.Reclaim(t.Context(), state); err != nil {
				t.Fatal(err)
			}
			if alive(pid) == tc.wantKill {
				t.Errorf("orphan alive = %v after Reclaim, want %v", alive(pid), !tc.wantKill)
			}
			if _, err := os.Stat(workdir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("working directory after Reclaim: %v, want it gone", err)
			}
		})
	}
}

// A state whose pid now belongs to another process (another start time) kills nothing.
func TestDriver_Reclaim_RecycledPid(t *testing.T) {
	stateDir := t.TempDir()
	other := exec.Command("sleep", "300")
	other.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = other.Process.Kill()
		_ = other.Wait()
	})
	bootID, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		t.Fatal(err)
	}
	workdir := filepath.Join(stateDir, "sbx")
	state, err := json.Marshal(map[string]any{
		"pid": other.Process.Pid, "pgid": other.Process.Pid, "start_time": 1,
		"boot_id": strings.TrimSpace(string(bootID)), "workdir": workdir, "cwd": workdir,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := newDriver(t, stateDir).Reclaim(t.Context(), state); err != nil {
		t.Fatal(err)
	}
	if !alive(other.Process.Pid) {
		t.Fatal("Reclaim killed a process that only shares the recorded pid")
	}
}

func TestDriver_Reclaim_RefusesForeignDirectories(t *testing.T) {
	stateDir := t.TempDir()
	d := newDriver(t, stateDir)
	outside := t.TempDir()
	for _, dir := range []string{outside, stateDir, filepath.Join(stateDir, "a", "b"), "relative", ""} {
		state, err := json.Marshal(map[string]any{"pid": 0, "workdir": dir})
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Reclaim(t.Context(), state); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("Reclaim of workdir %q = %v, want ErrInvalidArgument", dir, err)
		}
	}
	for _, dir := range []string{outside, stateDir} {
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("%s after a refused Reclaim: %v", dir, err)
		}
	}
}
