package tracing_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a test leaves a goroutine behind: Shutdown must stop the
// batch processors and the agent span export.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
