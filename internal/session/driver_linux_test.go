//go:build linux

package session

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/sandbox/netns"
	"berth.dev/berth/internal/sandbox/process"
	"berth.dev/berth/test/testagent"
)

// realDriver reports whether the tests run on the real process driver with the real test
// agent (test/agent). It needs network namespaces (root); elsewhere they use the fake.
func realDriver() bool { return netns.Available() == nil }

// newTestDriver returns the driver sessions run on and its state directory ("" for the
// fake).
func newTestDriver(t testing.TB) (sandbox.Driver, string) {
	t.Helper()
	if !realDriver() {
		t.Logf("no network namespaces here: running on the test fake driver")
		return newFakeDriver(), ""
	}
	dir := filepath.Join(t.TempDir(), "sandboxes")
	d, err := process.New(process.Config{StateDir: dir, StopGrace: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return d, dir
}

// testSpec runs the test agent on port 8080 with extra environment.
func testSpec(t testing.TB, env ...string) sandbox.Spec {
	t.Helper()
	cmd := "/agent" // the fake ignores it
	if realDriver() {
		cmd = testagent.Binary(t)
	}
	return sandbox.Spec{
		Command: []string{cmd},
		Env:     append([]string{"PATH=/usr/bin:/bin", "PORT=8080"}, env...),
		Ports:   []int{8080},
		Network: sandbox.NetworkPolicy{Mode: sandbox.NetworkNone},
	}
}

// hang makes the agent of l stop answering /ping: the real agent is frozen with SIGSTOP
// (the pid its incr op reports is a host pid under the process driver).
func hang(t *testing.T, l *Lease) {
	t.Helper()
	if !realDriver() {
		invoke(t, l, map[string]any{"op": "hang"})
		return
	}
	pid, ok := invoke(t, l, map[string]any{"op": "incr"})["pid"].(float64)
	if !ok || pid <= 1 {
		t.Fatalf("agent reported pid %v", pid)
	}
	if err := syscall.Kill(int(pid), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
}

// processGone checks that no process of sandbox sb is left: its main process, named in
// the process driver's state, no longer exists.
func processGone(t testing.TB, sb sandbox.Sandbox) {
	t.Helper()
	var st struct {
		PID int `json:"pid"`
	}
	if json.Unmarshal(sb.State(), &st) != nil || st.PID == 0 {
		return // the fake has no processes
	}
	if _, err := os.Stat("/proc/" + strconv.Itoa(st.PID)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("process %d of sandbox %s still exists (%v)", st.PID, sb.ID(), err)
	}
}
