//go:build !linux

package session

import (
	"testing"

	"berth.dev/berth/internal/sandbox"
)

func realDriver() bool { return false }

func newTestDriver(t testing.TB) (sandbox.Driver, string) {
	t.Helper()
	return newFakeDriver(), ""
}

func testSpec(t testing.TB, env ...string) sandbox.Spec {
	t.Helper()
	return sandbox.Spec{Command: []string{"/agent"}, Env: append([]string{"PORT=8080"}, env...), Ports: []int{8080}}
}

func hang(t *testing.T, l *Lease) {
	t.Helper()
	invoke(t, l, map[string]any{"op": "hang"})
}

func processGone(testing.TB, sandbox.Sandbox) {}
