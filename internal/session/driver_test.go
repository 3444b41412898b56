package session

import (
	"testing"

	"berth.dev/berth/internal/sandbox"
)

// newTestDriver is the driver the tests run sessions on.
func newTestDriver(t *testing.T) sandbox.Driver {
	t.Helper()
	return newFakeDriver()
}

// testSpec runs the test agent on port 8080 with extra environment.
func testSpec(t *testing.T, env ...string) sandbox.Spec {
	t.Helper()
	return sandbox.Spec{
		Command: []string{"/agent"},
		Env:     append([]string{"PORT=8080"}, env...),
		Ports:   []int{8080},
	}
}
