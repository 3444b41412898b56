//go:build linux

package gvisor_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/sandbox/gvisor"
	"berth.dev/berth/internal/sandbox/sandboxtest"
	"berth.dev/berth/test/testagent"
)

// startTimeout is generous: runsc starts in about 150 ms alone, but tests share 2 cores.
const startTimeout = 60 * time.Second

func newDriver(t testing.TB, stateDir string) *gvisor.Driver {
	t.Helper()
	d, err := gvisor.New(gvisor.Config{StateDir: stateDir, StopGrace: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Available(); err != nil {
		t.Skipf("the gvisor driver cannot run here (needs root and runsc: apt-get install %s): %v", gvisor.AptPackage, err)
	}
	return d
}

func TestRegister_GVisor(t *testing.T) {
	d, err := sandbox.New(gvisor.Name, sandbox.Options{StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	want := sandbox.Capabilities{Isolation: "gvisor", Exec: true, Reclaim: true, Egress: []sandbox.NetworkMode{sandbox.NetworkNone}}
	if diff := cmp.Diff(want, d.Capabilities()); diff != "" {
		t.Fatalf("Capabilities() (-want +got):\n%s", diff)
	}
	inst, ok := d.(sandbox.Installer)
	if !ok || !slices.Contains(inst.Packages(), "runsc") {
		t.Fatalf("the driver does not list the runsc package for berth setup")
	}
}

func TestDriver_Available_MissingRunsc(t *testing.T) {
	d, err := gvisor.New(gvisor.Config{StateDir: t.TempDir(), RunscPath: "/no/such/runsc"})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Available(); err == nil || !strings.Contains(err.Error(), "/no/such/runsc") {
		t.Fatalf("Available() with a missing runsc = %v, want it to name the path", err)
	}
	_, err = d.Start(t.Context(), sandbox.Spec{ID: "x", Command: []string{"/agent"}})
	if !errors.Is(err, errdefs.ErrUnavailable) {
		t.Fatalf("Start with a missing runsc = %v, want ErrUnavailable", err)
	}
}

func TestDriver_Conformance_RootFS(t *testing.T) {
	stateDir := t.TempDir()
	d := newDriver(t, stateDir)
	rootFS := sandboxtest.ImageRoot(t, testagent.Binary(t))
	sandboxtest.Run(t, d, sandboxtest.Options{
		Spec: func(*testing.T, string) sandbox.Spec {
			// HOME is set: runsc would add it otherwise (see the package doc).
			return sandbox.Spec{RootFS: rootFS, WorkDir: "/srv", Command: []string{"/agent"}, Env: []string{"PATH=/bin", "HOME=/tmp"}}
		},
		NewDriver:    func(t *testing.T) sandbox.Driver { return newDriver(t, stateDir) },
		StateDir:     stateDir,
		StartTimeout: startTimeout,
	})
}

func TestDriver_Conformance_CodeDir(t *testing.T) {
	stateDir := t.TempDir()
	d := newDriver(t, stateDir)
	sandboxtest.Run(t, d, sandboxtest.Options{
		Spec: func(t *testing.T, agentBin string) sandbox.Spec {
			return sandbox.Spec{
				CodeDir: codeDir(t, agentBin),
				WorkDir: "/var/task",
				Command: []string{"/var/task/" + filepath.Base(agentBin)},
				Env:     []string{"PATH=/usr/bin:/bin", "HOME=/tmp"},
			}
		},
		NewDriver:    func(t *testing.T) sandbox.Driver { return newDriver(t, stateDir) },
		StateDir:     stateDir,
		StartTimeout: startTimeout,
	})
}

// codeDir returns a code tree holding agentBin that the sandbox user may read: the agent's
// own directory if it is, else a copy (testagent builds into a private temporary
// directory, and gVisor checks permissions as the sandbox user).
func codeDir(t *testing.T, agentBin string) string {
	t.Helper()
	dir := filepath.Dir(agentBin)
	if fi, err := os.Stat(dir); err == nil && fi.Mode().Perm()&0o005 == 0o005 {
		return dir
	}
	codeDirsMu.Lock()
	defer codeDirsMu.Unlock()
	if d, ok := codeDirs[agentBin]; ok {
		return d
	}
	d, err := os.MkdirTemp("", "berth-gvisor-code") //nolint:usetesting // shared by every test in the process
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(agentBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(d, 0o755); err != nil { //nolint:gosec // the sandbox user must read the code
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d, filepath.Base(agentBin)), b, 0o755); err != nil { //nolint:gosec // an executable
		t.Fatal(err)
	}
	codeDirs[agentBin] = d
	return d
}

var (
	codeDirsMu sync.Mutex
	codeDirs   = map[string]string{}
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range codeDirs {
		_ = os.RemoveAll(d)
	}
	os.Exit(code)
}

// pythonAgent answers GET with 200 and POST with what it sees of itself.
const pythonAgent = `import http.server, json, os
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b'{"status":"Healthy"}')
    def do_POST(self):
        body = json.dumps({"uid": os.getuid(), "cwd": os.getcwd(), "hostname": os.uname().nodename,
                           "usr_writable": os.access("/usr/bin", os.W_OK)}).encode()
        self.send_response(200); self.end_headers(); self.wfile.write(body)
    def log_message(self, *args): pass
http.server.HTTPServer(("0.0.0.0", 8080), H).serve_forever()
`

func pythonCode(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("needs /usr/bin/python3 (apt-get install python3)")
	}
	code := t.TempDir()
	if err := os.WriteFile(filepath.Join(code, "main.py"), []byte(pythonAgent), 0o644); err != nil {
		t.Fatal(err)
	}
	return code
}

func pythonSpec(id, code string) sandbox.Spec {
	return sandbox.Spec{
		ID: id, CodeDir: code, WorkDir: "/var/task",
		Command: []string{"/usr/bin/python3", "main.py"}, Env: []string{"PATH=/usr/bin:/bin", "PYTHONPATH=/var/task"},
	}
}

// TestDriver_PythonOnBase runs a code-zip Python agent with the host's interpreter through
// the base root filesystem (Spec.RootFS ""), as Berth runs code zips.
func TestDriver_PythonOnBase(t *testing.T) {
	stateDir := t.TempDir()
	d := newDriver(t, stateDir)
	spec := pythonSpec("py-"+strconv.Itoa(os.Getpid()), pythonCode(t))
	spec.Stderr = testWriter{t}
	sb, err := d.Start(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := sb.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	}()
	body := post(t, sb, startTimeout)
	want := `{"uid": 65534, "cwd": "/var/task", "hostname": "sandbox", "usr_writable": false}`
	if body != want {
		t.Fatalf("agent says %s, want %s", body, want)
	}
}

// Files the agent writes land in the sandbox's overlay, never in the shared image tree,
// and the next sandbox of the image does not see them.
func TestDriver_RootFSUnchanged(t *testing.T) {
	d := newDriver(t, t.TempDir())
	rootFS := sandboxtest.ImageRoot(t, testagent.Binary(t))
	write := func(id string) (string, int) {
		t.Helper()
		sb, err := d.Start(t.Context(), sandbox.Spec{ID: id, RootFS: rootFS, WorkDir: "/srv", Command: []string{"/agent"}, Env: []string{"PATH=/bin"}})
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := sb.Stop(context.Background()); err != nil {
				t.Error(err)
			}
		}()
		var out strings.Builder
		code, err := sb.(sandbox.Execer).Exec(t.Context(), sandbox.ExecRequest{
			Command: []string{"/bin/sh", "-c", "cat /srv/mark 2>/dev/null; echo written > /srv/mark && echo ok"},
			Stdout:  &out,
		})
		if err != nil {
			t.Fatal(err)
		}
		return out.String(), code
	}
	for _, id := range []string{"first", "second"} {
		if out, code := write(id); out != "ok\n" || code != 0 {
			t.Fatalf("sandbox %s: %q, exit %d; want a fresh /srv and a successful write", id, out, code)
		}
	}
	if entries, err := os.ReadDir(filepath.Join(rootFS, "srv")); err != nil || len(entries) != 0 {
		t.Fatalf("the image's /srv on the host after two sandboxes wrote to it: %v, %v", entries, err)
	}
}

func TestDriver_Start_Errors(t *testing.T) {
	stateDir := t.TempDir()
	d := newDriver(t, stateDir)
	for name, spec := range map[string]sandbox.Spec{
		"bad id":        {ID: "a/b", Command: []string{"/agent"}},
		"no command":    {ID: "x"},
		"bad env":       {ID: "x", Command: []string{"/agent"}, Env: []string{"NOEQUALS"}},
		"relative root": {ID: "x", RootFS: "rel", Command: []string{"/agent"}},
		"public":        {ID: "x", Command: []string{"/agent"}, Network: sandbox.NetworkPolicy{Mode: sandbox.NetworkPublic}},
		"allowlist":     {ID: "x", Command: []string{"/agent"}, Network: sandbox.NetworkPolicy{Mode: sandbox.NetworkAllowlist}},
	} {
		if _, err := d.Start(t.Context(), spec); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("%s: Start = %v, want ErrInvalidArgument", name, err)
		}
	}
	_, err := d.Start(t.Context(), sandbox.Spec{ID: "noroot", RootFS: "/no/such/root", Command: []string{"/agent"}})
	if !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("Start with a missing root filesystem = %v, want ErrInvalidArgument", err)
	}
	private := sandboxtest.ImageRoot(t, "/bin/true")
	if err := os.Chmod(private, 0o700); err != nil {
		t.Fatal(err)
	}
	_, err = d.Start(t.Context(), sandbox.Spec{ID: "private", RootFS: private, Command: []string{"/agent"}})
	if !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), "chmod 755") {
		t.Errorf("Start with a root filesystem of mode 0700 = %v, want ErrInvalidArgument saying what to do", err)
	}
	if names := entries(t, filepath.Join(stateDir, "sandboxes")); len(names) != 0 {
		t.Fatalf("state directory after failed Starts: %v, want empty", names)
	}
}

// A program that does not exist in the root ends the sandbox at once, and ExitErr names it.
func TestDriver_Start_MissingProgram(t *testing.T) {
	d := newDriver(t, t.TempDir())
	sb, err := d.Start(t.Context(), sandbox.Spec{ID: "missing", RootFS: sandboxtest.ImageRoot(t, "/bin/true"), Command: []string{"/nope"}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := sb.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	}()
	select {
	case <-sb.Done():
	case <-time.After(startTimeout):
		t.Fatal("a sandbox whose program does not exist did not end")
	}
	if err := sb.ExitErr(); err == nil || !strings.Contains(err.Error(), "/nope") {
		t.Fatalf("ExitErr() = %v, want runsc's error naming /nope", err)
	}
}

// When runsc fails before it has created the sandbox, Start returns its message and leaves
// nothing behind: no process, cgroup, network namespace or directory.
func TestDriver_Start_RunscFails(t *testing.T) {
	stateDir := t.TempDir()
	fake := filepath.Join(t.TempDir(), "runsc")
	script := "#!/bin/sh\n[ \"$1\" = flags ] && exec " + realRunsc(t) + " flags\necho 'runsc: simulated failure' >&2\nexit 1\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil { //nolint:gosec // an executable
		t.Fatal(err)
	}
	d, err := gvisor.New(gvisor.Config{StateDir: stateDir, RunscPath: fake})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Available(); err != nil {
		t.Skipf("the gvisor driver cannot run here: %v", err)
	}
	_, err = d.Start(t.Context(), sandbox.Spec{ID: "fails", RootFS: sandboxtest.ImageRoot(t, "/bin/true"), Command: []string{"/agent"}})
	if err == nil || !strings.Contains(err.Error(), "simulated failure") {
		t.Fatalf("Start = %v, want runsc's message", err)
	}
	if names := entries(t, filepath.Join(stateDir, "sandboxes")); len(names) != 0 {
		t.Fatalf("state directory after a failed Start: %v, want empty", names)
	}
	if dirs, _ := filepath.Glob("/sys/fs/cgroup/*/berth-gvisor/fails"); len(dirs) != 0 {
		t.Fatalf("cgroup directories after a failed Start: %v", dirs)
	}
}

func realRunsc(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/runsc", "/usr/sbin/runsc"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skipf("runsc is not installed (apt-get install %s)", gvisor.AptPackage)
	return ""
}

func TestDriver_Start_DuplicateID(t *testing.T) {
	d := newDriver(t, t.TempDir())
	rootFS := sandboxtest.ImageRoot(t, testagent.Binary(t))
	spec := sandbox.Spec{ID: "taken", RootFS: rootFS, Command: []string{"/agent"}}
	sb, err := d.Start(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sb.Stop(context.Background()) }()
	if _, err := d.Start(t.Context(), spec); !errors.Is(err, errdefs.ErrConflict) {
		t.Fatalf("second Start with the same id = %v, want ErrConflict", err)
	}
	select {
	case <-sb.Done():
		t.Fatal("a refused Start with the same id ended the running sandbox")
	default:
	}
}

func entries(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

// post sends POST /invocations once the agent answers, and returns the body.
func post(t *testing.T, sb sandbox.Sandbox, within time.Duration) string {
	t.Helper()
	c := client(sb)
	deadline := time.Now().Add(within)
	for {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://sandbox/invocations", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.Do(req)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			return string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("agent did not answer within %v: %v (exit: %v)", within, err, sb.ExitErr())
		}
		select {
		case <-sb.Done():
			t.Fatalf("agent exited: %v", sb.ExitErr())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func client(sb sandbox.Sandbox) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext:       func(ctx context.Context, _, _ string) (net.Conn, error) { return sb.DialContext(ctx, "tcp", 8080) },
		DisableKeepAlives: true,
	}}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// What a crash of Berth leaves: runsc run is killed (its parent-death signal), the sentry
// and the gofer may live on. Reclaim from a new driver removes all of it.
func TestDriver_Reclaim_AfterCrash(t *testing.T) {
	stateDir := t.TempDir()
	d := newDriver(t, stateDir)
	rootFS := sandboxtest.ImageRoot(t, testagent.Binary(t))
	sb, err := d.Start(t.Context(), sandbox.Spec{ID: "crashed", RootFS: rootFS, Command: []string{"/agent"}, Env: []string{"PATH=/bin"}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sb.Stop(context.Background()) }()
	post(t, sb, startTimeout)
	dir := filepath.Join(stateDir, "sandboxes", "crashed")
	procs := processesMentioning(t, dir)
	if len(procs) < 3 {
		t.Fatalf("found %d processes of the sandbox (%v), want runsc, the sentry and the gofer", len(procs), procs)
	}
	for pid, cmdline := range procs {
		if strings.Contains(cmdline, " run ") {
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
		}
	}
	<-sb.Done()
	t.Logf("after runsc run was killed: %d processes of the sandbox left", len(processesMentioning(t, dir)))
	if dirs, _ := filepath.Glob("/sys/fs/cgroup/*/berth-gvisor/crashed"); len(dirs) == 0 {
		t.Fatal("no cgroup directory left by the crash: the test tests nothing")
	}
	if err := newDriver(t, stateDir).Reclaim(t.Context(), sb.State()); err != nil {
		t.Fatal(err)
	}
	if left := processesMentioning(t, dir); len(left) != 0 {
		t.Errorf("processes left after Reclaim: %v", left)
	}
	if dirs, _ := filepath.Glob("/sys/fs/cgroup/*/berth-gvisor/crashed"); len(dirs) != 0 {
		t.Errorf("cgroup directories left after Reclaim: %v", dirs)
	}
	if names := entries(t, filepath.Join(stateDir, "sandboxes")); len(names) != 0 {
		t.Errorf("state directory after Reclaim: %v, want empty", names)
	}
}

// processesMentioning returns the live (not zombie) processes whose command line contains
// s, by pid.
func processesMentioning(t *testing.T, s string) map[int]string {
	t.Helper()
	out := map[int]string{}
	des, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range des {
		pid, err := strconv.Atoi(de.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + de.Name() + "/cmdline")
		if err != nil || len(b) == 0 { // gone, or a zombie (empty command line)
			continue
		}
		if cmdline := strings.ReplaceAll(string(b), "\x00", " "); strings.Contains(cmdline, s) {
			out[pid] = cmdline
		}
	}
	return out
}

func TestSandbox_Exec_Details(t *testing.T) {
	d := newDriver(t, t.TempDir())
	rootFS := sandboxtest.ImageRoot(t, testagent.Binary(t))
	sb, err := d.Start(t.Context(), sandbox.Spec{ID: "exec", RootFS: rootFS, WorkDir: "/srv", Command: []string{"/agent"}, Env: []string{"PATH=/bin", "A=spec"}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sb.Stop(context.Background()) }()
	post(t, sb, startTimeout)
	e := sb.(sandbox.Execer)

	var out strings.Builder
	script := `while read -r k v rest; do case $k in Uid:|CapEff:) echo "$k $v";; esac; done < /proc/self/status; pwd; echo "$A"`
	code, err := e.Exec(t.Context(), sandbox.ExecRequest{Command: []string{"/bin/sh", "-c", script}, Env: []string{"A=exec"}, WorkDir: "/tmp", Stdout: &out})
	if err != nil || code != 0 {
		t.Fatalf("Exec = %d, %v", code, err)
	}
	if want := "Uid: 65534\nCapEff: 0000000000000000\n/tmp\nexec\n"; out.String() != want {
		t.Errorf("Exec output = %q, want %q (the sandbox user, no capabilities, WorkDir, req.Env wins)", out.String(), want)
	}

	if _, err := e.Exec(t.Context(), sandbox.ExecRequest{Command: []string{"/no/such/program"}}); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("Exec of a missing program = %v, want ErrInvalidArgument", err)
	}
	if code, err := e.Exec(t.Context(), sandbox.ExecRequest{Command: []string{"/bin/sh", "-c", "kill -9 $$"}}); err != nil || code != 128+9 {
		t.Errorf("Exec of a command killed by SIGKILL = %d, %v; want 137", code, err)
	}

	resp, err := client(sb).Post("http://sandbox/invocations", "application/json", strings.NewReader(`{"op":"crash"}`))
	if err == nil {
		_ = resp.Body.Close()
	}
	<-sb.Done()
	if _, err := e.Exec(t.Context(), sandbox.ExecRequest{Command: []string{"/bin/sh", "-c", "true"}}); !errors.Is(err, errdefs.ErrConflict) {
		t.Errorf("Exec after the agent exited = %v, want ErrConflict", err)
	}
	if err := sb.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Exec(t.Context(), sandbox.ExecRequest{Command: []string{"/bin/sh", "-c", "true"}}); !errors.Is(err, errdefs.ErrConflict) {
		t.Errorf("Exec after Stop = %v, want ErrConflict", err)
	}
}

func TestDriver_Start_CanceledContext(t *testing.T) {
	stateDir := t.TempDir()
	d := newDriver(t, stateDir)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := d.Start(ctx, sandbox.Spec{ID: "x", RootFS: sandboxtest.ImageRoot(t, "/bin/true"), Command: []string{"/agent"}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Start = %v, want context.Canceled", err)
	}
	if names := entries(t, filepath.Join(stateDir, "sandboxes")); len(names) != 0 {
		t.Fatalf("state directory = %v, want empty", names)
	}
}

func TestSandbox_DialContext_BadArguments(t *testing.T) {
	d := newDriver(t, t.TempDir())
	sb, err := d.Start(t.Context(), sandbox.Spec{ID: "dial", RootFS: sandboxtest.ImageRoot(t, testagent.Binary(t)), Command: []string{"/agent"}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sb.Stop(context.Background()) }()
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
