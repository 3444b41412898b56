package egress_test

import (
	"testing"

	"go.uber.org/goleak"
)

// checkLeaks fails t if goroutines started during the test outlive its cleanups. Call it
// first: cleanups run last-registered first.
func checkLeaks(t *testing.T) {
	t.Helper()
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}
