package sandboxtest

import (
	"testing"
	"time"

	"berth.dev/berth/internal/sandbox"
)

// AgentPort is the port the test agent listens on (0.0.0.0), the AgentCore contract port.
const AgentPort = 8080

// Options adapt Run to one driver.
type Options struct {
	// Skip, if not empty, skips the whole suite with this reason (for example: the driver
	// is not available on this host).
	Skip string
	// Spec returns a Spec that runs the test agent, whose static binary is at agentBin, so
	// that it listens on 0.0.0.0:8080 with no TESTAGENT_START set. Run then sets ID,
	// Stdout and Stderr, and appends to Env. It is called once per sandbox.
	Spec func(t *testing.T, agentBin string) sandbox.Spec
	// NewDriver returns a fresh instance of the driver under test, configured the same way
	// (same StateDir), as Berth would build after a restart. The Reclaim tests need it; nil
	// skips them.
	NewDriver func(t *testing.T) sandbox.Driver
	// StateDir is the driver's sandbox.Options.StateDir. Run checks that Stop and Reclaim
	// leave it as they found it; "" skips that check.
	StateDir string
	// HostPIDs says that pids the agent reports (its own, its children's) are host pids,
	// so Run can check in /proc that Stop left none of them alive.
	HostPIDs bool
	// StartTimeout bounds how long a sandbox may take to answer /ping; 0 means 30 s.
	StartTimeout time.Duration
}
