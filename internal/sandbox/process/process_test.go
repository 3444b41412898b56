//go:build linux

package process_test

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/sandbox/netns"
	"berth.dev/berth/internal/sandbox/process"
	"berth.dev/berth/internal/sandbox/sandboxtest"
	"berth.dev/berth/test/testagent"
)

// skipUnlessNetns skips tests that need network namespaces (root or CAP_SYS_ADMIN).
func skipUnlessNetns(t *testing.T) {
	t.Helper()
	if err := netns.Available(); err != nil {
		t.Skipf("process driver tests need network namespaces (run as root): %v", err)
	}
}

func newDriver(t *testing.T, stateDir string) *process.Driver {
	t.Helper()
	d, err := process.New(process.Config{StateDir: stateDir})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestDriver_Conformance_CodeDir runs the suite with a code tree copied per sandbox; the
// command names the agent under WorkDir, as the session manager does for code zips.
func TestDriver_Conformance_CodeDir(t *testing.T) {
	skipUnlessNetns(t)
	stateDir := t.TempDir()
	sandboxtest.Run(t, newDriver(t, stateDir), sandboxtest.Options{
		Spec: func(t *testing.T, agentBin string) sandbox.Spec {
			return sandbox.Spec{
				CodeDir: filepath.Dir(agentBin),
				WorkDir: "/var/task",
				Command: []string{"/var/task/" + filepath.Base(agentBin)},
				Env:     []string{"PATH=/usr/bin:/bin"},
				Network: sandbox.NetworkPolicy{Mode: sandbox.NetworkNone},
			}
		},
		NewDriver: func(t *testing.T) sandbox.Driver { return newDriver(t, stateDir) },
		StateDir:  stateDir,
		HostPIDs:  true,
	})
}

// TestDriver_Conformance_RootFS runs the suite on an image-like root filesystem: the agent
// at /agent, a /srv working directory, and /bin/sh for Exec (the host's: without a chroot
// it runs with the host's libraries).
func TestDriver_Conformance_RootFS(t *testing.T) {
	skipUnlessNetns(t)
	stateDir := t.TempDir()
	rootFS := imageRoot(t, testagent.Binary(t))
	sandboxtest.Run(t, newDriver(t, stateDir), sandboxtest.Options{
		Spec: func(*testing.T, string) sandbox.Spec {
			return sandbox.Spec{
				RootFS:  rootFS,
				WorkDir: "/srv",
				Command: []string{"/agent"},
				Env:     []string{"PATH=/bin", "HOME=/"},
			}
		},
		NewDriver: func(t *testing.T) sandbox.Driver { return newDriver(t, stateDir) },
		StateDir:  stateDir,
		HostPIDs:  true,
	})
}

// imageRoot builds a root filesystem tree like testagent.Image's, plus /bin/sh.
func imageRoot(t *testing.T, agentBin string) string {
	t.Helper()
	root := t.TempDir()
	for _, dir := range []string{"srv", "bin"} {
		if err := os.Mkdir(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for dst, src := range map[string]string{"agent": agentBin, "bin/sh": "/bin/sh"} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, dst), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// BenchmarkDriver_StartToPing measures Start until the agent's /ping first answers 200
// (polled every millisecond), as ISOLATION.md measures spawn→ping; Stop is not timed.
// CodeDir copies the agent binary (5.7 MB) per sandbox; RootFS runs it in place.
func BenchmarkDriver_StartToPing(b *testing.B) {
	if err := netns.Available(); err != nil {
		b.Skip(err)
	}
	d, err := process.New(process.Config{StateDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	agent := testagent.Binary(b)
	for _, bc := range []struct {
		name string
		spec sandbox.Spec
	}{
		{"CodeDir", sandbox.Spec{CodeDir: filepath.Dir(agent), WorkDir: "/app", Command: []string{"/app/" + filepath.Base(agent)}}},
		{"RootFS", sandbox.Spec{RootFS: filepath.Dir(agent), Command: []string{"/" + filepath.Base(agent)}}},
	} {
		b.Run(bc.name, func(b *testing.B) { benchStartToPing(b, d, bc.spec) })
	}
}

func benchStartToPing(b *testing.B, d *process.Driver, spec sandbox.Spec) {
	ctx := context.Background()
	i := 0
	for b.Loop() {
		i++
		spec.ID = "bench-" + strconv.Itoa(i)
		sb, err := d.Start(ctx, spec)
		if err != nil {
			b.Fatal(err)
		}
		c := &http.Client{Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return sb.DialContext(ctx, "tcp", 8080)
			},
			DisableKeepAlives: true,
		}}
		for {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://sandbox/ping", nil)
			resp, err := c.Do(req)
			if err == nil {
				_ = resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			time.Sleep(time.Millisecond)
		}
		b.StopTimer()
		if err := sb.Stop(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// TestDriver_Isolation shows the isolation suite's skip: this driver isolates nothing.
func TestDriver_Isolation(t *testing.T) {
	skipUnlessNetns(t)
	stateDir := t.TempDir()
	sandboxtest.RunIsolation(t, newDriver(t, stateDir), sandboxtest.Options{StateDir: stateDir})
}
