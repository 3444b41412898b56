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

	// The fields below configure RunIsolation only.

	// ImageSpec returns a Spec that runs the test agent from an image's root filesystem.
	// rootFS is a tree the suite builds for the cases about the base image and privileges,
	// laid out as testagent.Image's layer (the agent at /agent, /srv and /tmp) plus files
	// those cases check and a setuid-root copy of the agent at /suid-agent; everything is
	// owned by root. RunIsolation sets ID, Stdout and Stderr, and appends to Env. nil means
	// Spec{RootFS: rootFS, Command: ["/agent"], WorkDir: "/srv", Env: [PATH, HOME=/]}.
	ImageSpec func(t *testing.T, rootFS string) sandbox.Spec
	// Limits are the limits of the sandbox that each exhaustion case exhausts (the other
	// sandboxes run with Spec's own). Zero fields mean 256 MiB of memory, 64 pids and a
	// 64 MiB writable layer (DiskBytes).
	Limits sandbox.Limits
}
