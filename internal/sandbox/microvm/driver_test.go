//go:build linux

package microvm_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/sandbox/egress"
	"berth.dev/berth/internal/sandbox/microvm"
	"berth.dev/berth/internal/sandbox/rootfs"
	"berth.dev/berth/internal/sandbox/sandboxtest"
	"berth.dev/berth/test/testagent"
)

// kernelCacheDir is where tests build the guest kernel once per machine (CI caches it);
// BERTH_TEST_MICROVM_KERNEL names a prebuilt kernel instead.
const kernelCacheDir = "/var/cache/berth-test"

// env is what every test needs: the guest kernel and init, and a root filesystem holding
// the test agent at /agent and a shell.
type env struct {
	kernel, guest, rootFS string
	skip                  string
}

var (
	envOnce sync.Once
	testEnv env
)

func TestMain(m *testing.M) {
	code := m.Run()
	if testEnv.rootFS != "" {
		_ = os.RemoveAll(testEnv.rootFS)
	}
	os.Exit(code)
}

func setup(t testing.TB) env {
	t.Helper()
	envOnce.Do(func() { testEnv = buildEnv(t) })
	if testEnv.skip != "" {
		t.Skip(testEnv.skip)
	}
	return testEnv
}

func buildEnv(t testing.TB) env {
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		return env{skip: "qemu-system-x86_64 not installed (apt install qemu-system-x86)"}
	}
	if _, err := os.Stat(microvm.KernelSource); err != nil {
		return env{skip: "no guest kernel source (apt install linux-source-6.1 and the build tools, see microvm.AptPackages)"}
	}
	if err := os.MkdirAll(kernelCacheDir, 0o755); err != nil {
		return env{skip: "cannot create " + kernelCacheDir + ": " + err.Error()}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	kernel := os.Getenv("BERTH_TEST_MICROVM_KERNEL") // a prebuilt guest kernel, if set
	if kernel == "" {
		var err error
		if kernel, err = microvm.BuildKernel(ctx, kernelCacheDir, testWriter{t}); err != nil {
			t.Fatalf("BuildKernel: %v", err)
		}
	}
	e := env{kernel: kernel, guest: testagent.Build(t, "berth.dev/berth/cmd/berth-guest")}
	// The root filesystem is built once per test process: its identity (and so its disk
	// image and snapshot template) would change with every copy.
	root, err := os.MkdirTemp("", "berth-microvm-root") //nolint:usetesting // shared by every test in the process
	if err != nil {
		t.Fatal(err)
	}
	if err := rootfs.EnsureBase(root); err != nil {
		t.Fatal(err)
	}
	if err := microvm.CopyClosure(ctx, root, "/bin/sh"); err != nil {
		t.Fatal(err)
	}
	agent, err := os.ReadFile(testagent.Binary(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "agent"), agent, 0o755); err != nil {
		t.Fatal(err)
	}
	e.rootFS = root
	return e
}

// testWriter sends the kernel build's output to the test log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s", p)
	return len(p), nil
}

// logLevel is the driver's log level in tests: BERTH_TEST_DEBUG=1 shows per-sandbox
// timings.
var logLevel = func() slog.Level {
	if os.Getenv("BERTH_TEST_DEBUG") != "" {
		return slog.LevelDebug
	}
	return slog.LevelInfo
}()

func newDriver(t testing.TB, e env, stateDir, cacheDir string) *microvm.Driver {
	t.Helper()
	return newDriverWith(t, e, microvm.Config{StateDir: stateDir, CacheDir: cacheDir})
}

// newDriverWith fills in cfg's kernel, guest init, TCG and logger.
func newDriverWith(t testing.TB, e env, cfg microvm.Config) *microvm.Driver {
	t.Helper()
	cfg.Kernel, cfg.Guest, cfg.AllowTCG = e.kernel, e.guest, true
	cfg.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: logLevel}))
	d, err := microvm.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// longDir returns a new directory whose path is far longer than a unix socket path may
// be (107 bytes), as a data directory can be.
func longDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), strings.Repeat("a-rather-long-directory-name/", 4))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

func (e env) spec(_ *testing.T, _ string) sandbox.Spec {
	return sandbox.Spec{
		RootFS:  e.rootFS,
		Command: []string{"/agent"},
		Env:     []string{"PATH=/usr/bin:/bin"},
		WorkDir: "/srv",
		Ports:   []int{sandboxtest.AgentPort},
		Limits:  sandbox.Limits{MemoryBytes: 128 << 20},
	}
}

// TestDriver_Conformance runs the behaviour suite with the driver's directories deep in
// the file system. Specs started twice are restored from agent snapshots from then on,
// so the suite covers both ways of starting.
func TestDriver_Conformance(t *testing.T) {
	e := setup(t)
	stateDir, cacheDir := longDir(t), longDir(t)
	d := newDriver(t, e, stateDir, cacheDir)
	sandboxtest.Run(t, d, sandboxtest.Options{
		Spec:         e.spec,
		NewDriver:    func(t *testing.T) sandbox.Driver { return newDriver(t, e, stateDir, cacheDir) },
		StateDir:     stateDir,
		StartTimeout: 2 * time.Minute,
	})
}

// BenchmarkRestoreToPing measures Start until the agent's /ping first answers 200, and
// reports the median: a restore of the spec's agent snapshot, or with
// BERTH_BENCH_NO_AGENT_SNAPSHOT set, a restore of the template plus the agent's start. It
// also reports the QEMU process's CPU time until then, which unlike the wall-clock time
// does not depend on how busy the host's cores are (TCG is CPU-bound). With
// BERTH_BENCH_EGRESS set to an egress mode (NONE, PUBLIC), the driver has the egress
// manager Berth uses (as root; its default pool of PUBLIC namespaces) and every Start
// prepares the sandbox's network and runs QEMU in it.
func BenchmarkRestoreToPing(b *testing.B) {
	e := setup(b)
	cfg := microvm.Config{StateDir: b.TempDir(), CacheDir: b.TempDir(), SnapshotAfter: 1}
	if os.Getenv("BERTH_BENCH_NO_AGENT_SNAPSHOT") != "" {
		cfg.SnapshotAfter = -1 // the agent starts in the template at every Start
	}
	spec := e.spec(nil, "")
	if mode := os.Getenv("BERTH_BENCH_EGRESS"); mode != "" {
		if os.Geteuid() != 0 {
			b.Skip("BERTH_BENCH_EGRESS needs root")
		}
		m, err := egress.New(b.Context(), egress.Config{Tag: "mvmb", Subnet: netip.MustParsePrefix("10.236.128.0/24")}, slog.New(slog.DiscardHandler))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = m.Close() })
		cfg.Network = m.Provider()
		spec.Network.Mode = sandbox.NetworkMode(mode)
	}
	d := newDriverWith(b, e, cfg)
	var starts, cpus []time.Duration
	warm := func(id string) time.Duration {
		spec.ID = id
		t0 := time.Now()
		sb, err := d.Start(b.Context(), spec)
		if err != nil {
			b.Fatal(err)
		}
		starts = append(starts, time.Since(t0))
		defer func() { _ = sb.Stop(context.Background()) }()
		waitPing(b, sb)
		took := time.Since(t0)
		if u, err := sb.Usage(b.Context()); err == nil {
			cpus = append(cpus, u.CPUTime) // QEMU's CPU time: independent of the host's load
		}
		return took
	}
	b.Logf("first start (builds the disk image and the template): %v", warm("bench-warm"))
	starts, cpus = starts[:0], cpus[:0]
	var took []time.Duration
	for i := 0; b.Loop(); i++ {
		took = append(took, warm(fmt.Sprintf("bench-%d", i)))
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	slices.Sort(took)
	slices.Sort(starts)
	b.ReportMetric(ms(took[len(took)/2]), "p50-ms")
	b.ReportMetric(ms(took[0]), "min-ms")
	b.ReportMetric(ms(took[len(took)-1]), "max-ms")
	b.ReportMetric(ms(starts[len(starts)/2]), "start-p50-ms") // Start returned
	if len(cpus) > 0 {
		slices.Sort(cpus)
		b.ReportMetric(ms(cpus[len(cpus)/2]), "qemu-cpu-p50-ms") // QEMU's CPU time until the first /ping
	}
}

// waitPing polls /ping through the sandbox until it answers 200.
func waitPing(t testing.TB, sb sandbox.Sandbox) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	c := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return sb.DialContext(ctx, "tcp", sandboxtest.AgentPort)
		},
		DisableKeepAlives: true,
	}}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://sandbox/ping", nil)
		resp, err := c.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-sb.Done():
			t.Fatalf("agent exited before /ping answered: %v", sb.ExitErr())
		case <-ctx.Done():
			t.Fatalf("/ping did not answer: %v", err)
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// pythonAgent is a code-zip agent: Python's http.server answering GET /ping.
const pythonAgent = `import http.server, json, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"status": "Healthy", "python": sys.version.split()[0]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
print("python agent up", flush=True)
http.server.HTTPServer(("0.0.0.0", 8080), H).serve_forever()
`

// TestDriver_CodeZipPython runs a Python agent from a code directory on the base root
// filesystem (BuildBaseRoot): the interpreter and its standard library must be in the VM.
func TestDriver_CodeZipPython(t *testing.T) {
	e := setup(t)
	if _, err := exec.LookPath("python3.11"); err != nil {
		t.Skip("python3.11 not installed on the host; the base root filesystem copies it")
	}
	code := t.TempDir()
	if err := os.WriteFile(filepath.Join(code, "main.py"), []byte(pythonAgent), 0o644); err != nil {
		t.Fatal(err)
	}
	d := newDriver(t, e, t.TempDir(), t.TempDir())
	var out sandboxtest.SyncBuffer
	sb, err := d.Start(t.Context(), sandbox.Spec{
		ID:      "python-" + strings.ToLower(rand.Text()[:8]),
		CodeDir: code,
		Command: []string{"python3", "main.py"},
		Env:     []string{"PATH=/usr/bin:/bin"},
		WorkDir: "/var/task",
		Stdout:  &out,
		Stderr:  &out,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := sb.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	}()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("agent output:\n%s", out.String())
		}
	})
	waitPing(t, sb)
	var got sandboxtest.SyncBuffer
	code2, err := sb.(sandbox.Execer).Exec(t.Context(), sandbox.ExecRequest{
		Command: []string{"python3", "-c", "import os, ssl, json; print(os.getuid(), os.getcwd(), sorted(os.listdir('.')))"},
		Stdout:  &got, Stderr: &got,
	})
	if err != nil || code2 != 0 {
		t.Fatalf("Exec python3 = %d, %v: %s", code2, err, got.String())
	}
	if want := "65534 /var/task ['main.py']\n"; got.String() != want {
		t.Errorf("Exec output = %q, want %q", got.String(), want)
	}
}

// TestDriver_Isolation runs the isolation suite: the agent ships as a code disk next to a
// setuid-root copy of itself, on the test root filesystem. Every sandbox is restored from
// an agent snapshot of its spec (SnapshotAfter 1), the path sessions take. As root, the
// driver has the egress manager Berth uses, so the PUBLIC cases run too (an internet host
// is reachable; the host, private ranges and the metadata address are not); otherwise
// QEMU's network is closed and only NONE runs.
func TestDriver_Isolation(t *testing.T) {
	e := setup(t)
	var network sandbox.NetworkProvider
	if os.Geteuid() == 0 {
		network = sandboxtest.EgressProvider(t, "mvmi", "10.236.0.0/24")
	} else {
		t.Log("not root: no egress manager, the PUBLIC cases are skipped")
	}
	stateDir := t.TempDir()
	d := newDriverWith(t, e, microvm.Config{StateDir: stateDir, CacheDir: t.TempDir(), SnapshotAfter: 1, Network: network})
	sandboxtest.RunIsolation(t, d, sandboxtest.Options{
		Spec: func(_ *testing.T, agentBin string) sandbox.Spec {
			return sandbox.Spec{
				RootFS:  e.rootFS,
				CodeDir: filepath.Dir(agentBin),
				WorkDir: "/var/task",
				Command: []string{"/var/task/" + filepath.Base(agentBin)},
				Env:     []string{"PATH=/usr/bin:/bin", "HOME=/tmp"},
				Ports:   []int{sandboxtest.AgentPort},
				Limits:  sandbox.Limits{MemoryBytes: 128 << 20},
			}
		},
		ImageSpec: func(_ *testing.T, rootFS string) sandbox.Spec {
			return sandbox.Spec{
				RootFS:  rootFS,
				Command: []string{"/agent"},
				WorkDir: "/srv",
				Env:     []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/"},
				Ports:   []int{sandboxtest.AgentPort},
				Limits:  sandbox.Limits{MemoryBytes: 128 << 20},
			}
		},
		StateDir:     stateDir,
		StartTimeout: 2 * time.Minute,
	})
}

// TestDriver_Errors: bad specs and programs that cannot run are the caller's errors
// (errdefs.ErrInvalidArgument), with the program named.
func TestDriver_Errors(t *testing.T) {
	e := setup(t)
	d := newDriver(t, e, t.TempDir(), t.TempDir())
	for name, spec := range map[string]sandbox.Spec{
		"bad id":     {ID: "a/b", RootFS: e.rootFS, Command: []string{"/agent"}},
		"no command": {ID: "x", RootFS: e.rootFS},
		"public":     {ID: "x", RootFS: e.rootFS, Command: []string{"/agent"}, Network: sandbox.NetworkPolicy{Mode: sandbox.NetworkPublic}},
	} {
		if _, err := d.Start(t.Context(), spec); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("%s: Start = %v, want ErrInvalidArgument", name, err)
		}
	}
	spec := e.spec(t, "")
	spec.ID, spec.Command = "missing", []string{"/nope"}
	if sb, err := d.Start(t.Context(), spec); !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), "/nope") {
		if sb != nil {
			_ = sb.Stop(context.Background())
		}
		t.Fatalf("Start of a missing program = %v, want ErrInvalidArgument naming /nope", err)
	}
	spec = e.spec(t, "")
	spec.ID = "exec-missing"
	sb, err := d.Start(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sb.Stop(context.Background()) }()
	waitPing(t, sb)
	if _, err := sb.(sandbox.Execer).Exec(t.Context(), sandbox.ExecRequest{Command: []string{"/no/such/shell", "-c", "true"}}); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("Exec of a missing program = %v, want ErrInvalidArgument", err)
	}
}
