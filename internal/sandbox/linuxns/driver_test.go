//go:build linux

package linuxns_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/sandbox/linuxns"
	"berth.dev/berth/internal/sandbox/sandboxtest"
	"berth.dev/berth/test/testagent"
)

func newDriver(t testing.TB, stateDir string) *linuxns.Driver {
	t.Helper()
	d, err := linuxns.New(linuxns.Config{StateDir: stateDir, StopGrace: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Available(); err != nil {
		t.Skipf("the linuxns driver cannot run here: %v", err)
	}
	return d
}

func TestDriver_Conformance_RootFS(t *testing.T) {
	stateDir := t.TempDir()
	d := newDriver(t, stateDir)
	rootFS := sandboxtest.ImageRoot(t, testagent.Binary(t))
	sandboxtest.Run(t, d, sandboxtest.Options{
		Spec: func(*testing.T, string) sandbox.Spec {
			return sandbox.Spec{RootFS: rootFS, WorkDir: "/srv", Command: []string{"/agent"}, Env: []string{"PATH=/bin", "HOME=/tmp"}}
		},
		NewDriver: func(t *testing.T) sandbox.Driver { return newDriver(t, stateDir) },
	})
}

func TestDriver_Conformance_CodeDir(t *testing.T) {
	stateDir := t.TempDir()
	d := newDriver(t, stateDir)
	sandboxtest.Run(t, d, sandboxtest.Options{
		Spec: func(t *testing.T, agentBin string) sandbox.Spec {
			return sandbox.Spec{
				CodeDir: filepath.Dir(agentBin),
				WorkDir: "/var/task",
				Command: []string{"/var/task/" + filepath.Base(agentBin)},
				Env:     []string{"PATH=/usr/bin:/bin", "HOME=/tmp"},
			}
		},
		NewDriver: func(t *testing.T) sandbox.Driver { return newDriver(t, stateDir) },
	})
}

// TestDriver_PythonOnBase runs a code-zip Python agent with the host's interpreter through
// the base root filesystem, as Berth runs code zips.
func TestDriver_PythonOnBase(t *testing.T) {
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("needs /usr/bin/python3 (apt-get install python3)")
	}
	d := newDriver(t, t.TempDir())
	code := t.TempDir()
	const agent = `import http.server, json, os
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b'{"status":"Healthy"}')
    def do_POST(self):
        body = json.dumps({"uid": os.getuid(), "cwd": os.getcwd(), "hostname": os.uname().nodename,
                           "usr_writable": os.access("/usr/bin", os.W_OK)}).encode()
        self.send_response(200); self.end_headers(); self.wfile.write(body)
http.server.HTTPServer(("0.0.0.0", 8080), H).serve_forever()
`
	if err := os.WriteFile(filepath.Join(code, "main.py"), []byte(agent), 0o644); err != nil {
		t.Fatal(err)
	}
	sb, err := d.Start(t.Context(), sandbox.Spec{
		ID: "py-" + strconv.Itoa(os.Getpid()), CodeDir: code, WorkDir: "/var/task",
		Command: []string{"/usr/bin/python3", "main.py"}, Env: []string{"PATH=/usr/bin:/bin", "PYTHONPATH=/var/task"},
		Stderr: testWriter{t},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sb.Stop(context.Background()) }()
	body := post(t, sb, 10*time.Second)
	want := `{"uid": 65534, "cwd": "/var/task", "hostname": "sandbox", "usr_writable": false}`
	if body != want {
		t.Fatalf("agent says %s, want %s", body, want)
	}
}

func TestDriver_Errors(t *testing.T) {
	d := newDriver(t, t.TempDir())
	for name, spec := range map[string]sandbox.Spec{
		"bad id":        {ID: "a/b", Command: []string{"/agent"}},
		"no command":    {ID: "x"},
		"relative root": {ID: "x", RootFS: "rel", Command: []string{"/agent"}},
		"public":        {ID: "x", Command: []string{"/agent"}, Network: sandbox.NetworkPolicy{Mode: sandbox.NetworkPublic}},
	} {
		if _, err := d.Start(t.Context(), spec); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("%s: Start = %v, want ErrInvalidArgument", name, err)
		}
	}
	// A program that does not exist in the root is reported by Start, with the step.
	_, err := d.Start(t.Context(), sandbox.Spec{ID: "missing", RootFS: sandboxtest.ImageRoot(t, "/bin/true"), Command: []string{"/nope"}})
	if err == nil || !strings.Contains(err.Error(), "/nope") {
		t.Fatalf("Start of a missing program = %v", err)
	}
}

// post sends POST /invocations once the agent answers, and returns the body.
func post(t *testing.T, sb sandbox.Sandbox, within time.Duration) string {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{
		DialContext:       func(ctx context.Context, _, _ string) (net.Conn, error) { return sb.DialContext(ctx, "tcp", 8080) },
		DisableKeepAlives: true,
	}}
	deadline := time.Now().Add(within)
	for {
		resp, err := c.Post("http://sandbox/invocations", "application/json", strings.NewReader("{}"))
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			return string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("agent did not answer within %v: %v (exit: %v)", within, err, sb.ExitErr())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// codeSpec runs the test agent as a code zip on the base root filesystem.
func codeSpec(_ *testing.T, agentBin string) sandbox.Spec {
	return sandbox.Spec{
		CodeDir: filepath.Dir(agentBin),
		WorkDir: "/var/task",
		Command: []string{"/var/task/" + filepath.Base(agentBin)},
		Env:     []string{"PATH=/usr/bin:/bin", "HOME=/tmp"},
	}
}

// TestDriver_Isolation runs the isolation suite on loopback-only sandboxes.
func TestDriver_Isolation(t *testing.T) {
	stateDir := t.TempDir()
	d := newDriver(t, stateDir)
	sandboxtest.RunIsolation(t, d, sandboxtest.Options{Spec: codeSpec, StateDir: stateDir})
}

// TestDriver_IsolationWithEgress runs it again with the egress manager Berth uses, so the
// PUBLIC cases run too (the internet host is reachable, private ranges are not).
func TestDriver_IsolationWithEgress(t *testing.T) {
	network := sandboxtest.EgressProvider(t, "lnsi", "10.233.0.0/24")
	stateDir := t.TempDir()
	d, err := linuxns.New(linuxns.Config{StateDir: stateDir, StopGrace: 500 * time.Millisecond, Network: network})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Available(); err != nil {
		t.Skipf("the linuxns driver cannot run here: %v", err)
	}
	sandboxtest.RunIsolation(t, d, sandboxtest.Options{Spec: codeSpec, StateDir: stateDir})
}
