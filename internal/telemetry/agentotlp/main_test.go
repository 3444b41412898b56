package agentotlp_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a test leaves a goroutine behind: every sandbox's endpoint
// server must be gone once the sandbox stopped.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
