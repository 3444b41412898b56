// Package sandbox is the seam between Berth's session manager and the isolation technology
// that runs one agent session: a Driver turns a Spec into a running Sandbox.
//
// Lifecycle and contract, for every driver:
//
//  1. Driver.Start(ctx, spec) prepares and starts the sandbox and returns as soon as the
//     agent process is running (not when it is healthy: the session manager polls /ping).
//     On error nothing is left behind: no process, no directory, no network namespace.
//  2. Sandbox.DialContext(ctx, "tcp", port) connects to a TCP port inside the sandbox, where
//     the agent listens on 0.0.0.0 (never a host port exposed to others).
//  3. Sandbox.Done() is closed when the agent's main process has exited; Sandbox.ExitErr
//     then says how. Exiting does not release resources; Stop does.
//  4. Sandbox.Stop(ctx) kills every process of the sandbox, waits for them, and wipes all
//     writable state (working directory, overlay upper layer, namespaces). It is idempotent
//     and safe to call concurrently with anything else; it must succeed even if the agent
//     already exited. After Stop returns, nothing of the sandbox remains on the host.
//  5. Sandbox.Usage reports CPU time and memory (now and peak) of the whole sandbox.
//  6. Sandbox.State returns an opaque, JSON-encodable description that a later process can
//     hand to Reclaimer.Reclaim after a crash to kill and wipe a sandbox it no longer tracks.
//
// Optional abilities are separate interfaces found by type assertion and announced in
// Capabilities: Execer (run a command inside), Reclaimer (on the Driver).
package sandbox

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"time"
)

// Spec says what to run and under which limits.
type Spec struct {
	// ID names the sandbox uniquely on this host (the session manager passes a UUID).
	ID string
	// RootFS is the read-only root filesystem tree of an OCI image, or "" to run on the host's
	// own filesystem (code zips on a managed runtime).
	RootFS string
	// CodeDir is a read-only tree mounted (or, for the process driver, copied) at WorkDir
	// for code-zip agents; "" for images.
	CodeDir string
	// Command is the argv to execute; Command[0] is resolved inside the sandbox's root.
	Command []string
	// Env is the complete environment, as KEY=VALUE.
	Env []string
	// WorkDir is the agent's working directory inside the sandbox.
	WorkDir string
	// Ports the agent listens on (informational for drivers that must plumb them).
	Ports []int
	// Limits bound the sandbox's resources; zero values mean the driver's defaults.
	Limits Limits
	// Network is the egress policy.
	Network NetworkPolicy
	// Stdout and Stderr receive the agent's output; nil discards it.
	Stdout, Stderr io.Writer
}

// Limits bounds a sandbox's resources.
type Limits struct {
	CPUs        float64 // cores, e.g. 2
	MemoryBytes int64
	Pids        int64
	DiskBytes   int64 // size of the writable layer (root changes, /tmp) for drivers that bound it
}

// NetworkMode is a sandbox's egress policy.
type NetworkMode string

// Network modes.
const (
	NetworkNone      NetworkMode = "NONE"      // loopback only
	NetworkPublic    NetworkMode = "PUBLIC"    // the internet, never the host or private ranges
	NetworkAllowlist NetworkMode = "ALLOWLIST" // only listed domains, through Berth's egress proxy
)

// NetworkPolicy configures egress.
type NetworkPolicy struct {
	Mode           NetworkMode
	AllowedDomains []string
}

// Usage is a point-in-time resource reading of a whole sandbox.
type Usage struct {
	CPUTime         time.Duration // user+system, cumulative
	MemoryBytes     int64         // resident now
	MemoryPeakBytes int64         // high-water mark since start
}

// Capabilities announces what a driver supports.
type Capabilities struct {
	Isolation string // "none", "namespaces", "gvisor", "microvm": shown to users
	// HostFilesystem says code zips run on the host's own filesystem (the process driver),
	// so the server's PATH and interpreters apply; otherwise they run on the base root
	// filesystem of package rootfs, which has the host's /usr only.
	HostFilesystem bool
	Exec           bool // Sandbox implements Execer
	Reclaim        bool // Driver implements Reclaimer
	Egress         []NetworkMode
}

// Driver starts sandboxes of one kind.
type Driver interface {
	// Name is the registry name ("process", "linuxns", …).
	Name() string
	// Capabilities describes the driver.
	Capabilities() Capabilities
	// Available reports why the driver cannot run on this host, or nil if it can.
	Available() error
	// Start launches a sandbox; see the package doc for the contract.
	Start(ctx context.Context, spec Spec) (Sandbox, error)
}

// Sandbox is one running session environment.
type Sandbox interface {
	ID() string
	// DialContext connects to network ("tcp") port inside the sandbox.
	DialContext(ctx context.Context, network string, port int) (net.Conn, error)
	// Done is closed when the agent's main process has exited.
	Done() <-chan struct{}
	// ExitErr describes how the main process ended (nil before Done, or for exit status 0).
	ExitErr() error
	// Usage reads current resource usage.
	Usage(ctx context.Context) (Usage, error)
	// State describes the sandbox for Reclaimer after a crash of this process.
	State() json.RawMessage
	// Stop kills and wipes the sandbox; idempotent.
	Stop(ctx context.Context) error
}

// ExecRequest is a command to run inside a sandbox.
type ExecRequest struct {
	Command []string // argv; use {"/bin/sh","-c",cmd} for shell commands
	Env     []string // added to the sandbox's environment
	WorkDir string
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
}

// Execer is implemented by sandboxes that can run extra commands inside themselves.
type Execer interface {
	// Exec runs req to completion (or until ctx ends, which kills it) and returns its exit
	// code.
	Exec(ctx context.Context, req ExecRequest) (exitCode int, err error)
}

// Reclaimer is implemented by drivers that can clean up sandboxes left by a crashed process.
type Reclaimer interface {
	// Reclaim kills every process of the sandbox described by state (from Sandbox.State)
	// and wipes it. A sandbox that is already gone is not an error.
	Reclaim(ctx context.Context, state json.RawMessage) error
}
