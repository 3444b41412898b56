package linuxns

import (
	"fmt"
	"syscall"
)

// ExitError describes how a sandbox's agent (or an Exec'd command) ended.
type ExitError struct {
	// Code is the exit status, or -1 if a signal killed the process.
	Code int
	// Signal is the signal that killed the process, or 0.
	Signal syscall.Signal
	// OOM says the kernel killed a process of the sandbox for exceeding MemoryLimit.
	OOM         bool
	MemoryLimit int64
}

// Error renders the status like os.ProcessState, and names an out-of-memory kill.
func (e *ExitError) Error() string {
	s := fmt.Sprintf("exit status %d", e.Code)
	if e.Signal != 0 {
		s = "signal: " + e.Signal.String()
	}
	if e.OOM {
		s += fmt.Sprintf(" (out of memory: the sandbox exceeded its %d MiB memory limit)", e.MemoryLimit>>20)
	}
	return s
}

// ExitCode returns the exit status, or -1 if a signal killed the process.
func (e *ExitError) ExitCode() int { return e.Code }

// exitError converts a wait status; nil for a clean exit.
func exitError(ws syscall.WaitStatus) *ExitError {
	switch {
	case ws.Signaled():
		return &ExitError{Code: -1, Signal: ws.Signal()}
	case ws.Exited() && ws.ExitStatus() == 0:
		return nil
	default:
		return &ExitError{Code: ws.ExitStatus()}
	}
}
