package process

import (
	"fmt"
	"syscall"
)

// ExitError describes how a sandbox's main process (or an Exec'd command) ended.
type ExitError struct {
	// Code is the exit status, or -1 if a signal killed the process.
	Code int
	// Signal is the signal that killed the process, or 0.
	Signal syscall.Signal
}

// Error renders the status the way os.ProcessState does: "exit status 3", "signal: killed".
func (e *ExitError) Error() string {
	if e.Signal != 0 {
		return "signal: " + e.Signal.String()
	}
	return fmt.Sprintf("exit status %d", e.Code)
}

// ExitCode returns the exit status, or -1 if a signal killed the process, like
// exec.ExitError.ExitCode.
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
