//go:build linux

package gvisor_test

import (
	"path/filepath"
	"testing"
	"time"

	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/sandbox/gvisor"
	"berth.dev/berth/internal/sandbox/sandboxtest"
)

// codeSpec runs the agent as a code zip: its directory (with the suite's setuid-root copy
// next to it, when there is one) bound at /var/task.
func codeSpec(t *testing.T, agentBin string) sandbox.Spec {
	return sandbox.Spec{
		CodeDir: codeDir(t, agentBin),
		WorkDir: "/var/task",
		Command: []string{"/var/task/" + filepath.Base(agentBin)},
		Env:     []string{"PATH=/usr/bin:/bin", "HOME=/tmp"},
	}
}

// TestDriver_Isolation runs the isolation suite on loopback-only sandboxes, with a
// code-zip Spec and the suite's own image tree.
func TestDriver_Isolation(t *testing.T) {
	stateDir := t.TempDir()
	d := newDriver(t, stateDir)
	sandboxtest.RunIsolation(t, d, sandboxtest.Options{
		Spec:         codeSpec,
		NewDriver:    func(t *testing.T) sandbox.Driver { return newDriver(t, stateDir) },
		StateDir:     stateDir,
		StartTimeout: startTimeout,
	})
}

// TestDriver_IsolationWithEgress runs it again with the egress manager Berth uses, so the
// PUBLIC cases run too: the sentry's host network stack lives in the namespace the manager
// prepared, whose rules apply to it.
func TestDriver_IsolationWithEgress(t *testing.T) {
	network := sandboxtest.EgressProvider(t, "gvi", "10.234.0.0/24")
	stateDir := t.TempDir()
	d, err := gvisor.New(gvisor.Config{StateDir: stateDir, StopGrace: 500 * time.Millisecond, Network: network})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Available(); err != nil {
		t.Skipf("the gvisor driver cannot run here: %v", err)
	}
	sandboxtest.RunIsolation(t, d, sandboxtest.Options{Spec: codeSpec, StateDir: stateDir, StartTimeout: startTimeout})
}
