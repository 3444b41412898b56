package sandbox

import (
	"fmt"
	"syscall"
)

// ExitError describes how a sandbox's main process (or an Exec'd command) ended; drivers
// return it from Sandbox.ExitErr.
type ExitError struct {
	// Code is the exit status, or -1 if a signal killed the process.
	Code int
	// Signal is the signal that killed the process, or 0.
	Signal syscall.Signal
	// Detail is the driver's own account of a failure (an OCI runtime's error), or "".
	Detail string
	// OOM says the kernel killed a process of the sandbox for exceeding MemoryLimit.
	OOM         bool
	MemoryLimit int64
}

// Error renders the status like os.ProcessState ("exit status 3", "signal: killed"), then
// the detail and an out-of-memory kill.
func (e *ExitError) Error() string {
	s := fmt.Sprintf("exit status %d", e.Code)
	if e.Signal != 0 {
		s = "signal: " + e.Signal.String()
	}
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	if e.OOM {
		s += fmt.Sprintf(" (out of memory: the sandbox exceeded its %d MiB memory limit)", e.MemoryLimit>>20)
	}
	return s
}

// ExitCode returns the exit status, or -1 if a signal killed the process, like
// exec.ExitError.ExitCode.
func (e *ExitError) ExitCode() int { return e.Code }

// ExitStatus converts a wait status; nil for a clean exit.
func ExitStatus(ws syscall.WaitStatus) *ExitError {
	switch {
	case ws.Signaled():
		return &ExitError{Code: -1, Signal: ws.Signal()}
	case ws.Exited() && ws.ExitStatus() == 0:
		return nil
	default:
		return &ExitError{Code: ws.ExitStatus()}
	}
}
