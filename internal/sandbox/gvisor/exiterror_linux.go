package gvisor

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
)

// ExitError describes how a sandbox's agent ended.
type ExitError struct {
	// Code is the exit status, or -1 if a signal killed the agent.
	Code int
	// Signal is the signal that killed the agent, or 0.
	Signal syscall.Signal
	// OOM says the sandbox was killed for exceeding MemoryLimit.
	OOM         bool
	MemoryLimit int64
	// Runsc is runsc's own error when runsc, not the agent, failed (exit status 128:
	// the program could not be executed, for example).
	Runsc string
}

// Error renders the status like os.ProcessState, and names an out-of-memory kill.
func (e *ExitError) Error() string {
	s := fmt.Sprintf("exit status %d", e.Code)
	if e.Signal != 0 {
		s = "signal: " + e.Signal.String()
	}
	if e.Runsc != "" {
		s += " (runsc: " + e.Runsc + ")"
	}
	if e.OOM {
		s += fmt.Sprintf(" (out of memory: the sandbox exceeded its %d MiB memory limit)", e.MemoryLimit>>20)
	}
	return s
}

// ExitCode returns the exit status, or -1 if a signal killed the agent.
func (e *ExitError) ExitCode() int { return e.Code }

// runscStatus is the status runsc exited with: the container's exit status, or 128+n
// when signal n killed the container's process (or runsc itself). -1 means runsc did not
// exit normally.
func runscStatus(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return -1
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	if !ok {
		return ee.ExitCode()
	}
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// runscFailure is the exit status of runsc when it fails itself.
const runscFailure = 128

// Prefixes of the error runsc prints as its last line when it fails itself.
const (
	runFailed  = "running container: "
	execFailed = "executing processes for container: "
)

// runscError returns runsc's own error message from the tail of its standard error, where
// it is the last line and starts with prefix, or "".
func runscError(tail, prefix string) string {
	last := tail[strings.LastIndexByte(tail, '\n')+1:]
	if msg, ok := strings.CutPrefix(last, prefix); ok {
		return msg
	}
	return ""
}

// exitError converts the status of `runsc run`; nil for a clean exit.
func exitError(status int) *ExitError {
	switch {
	case status == 0:
		return nil
	case status < 0:
		return &ExitError{Code: -1}
	case status > 128 && status <= 128+64:
		return &ExitError{Code: -1, Signal: syscall.Signal(status - 128)}
	default:
		return &ExitError{Code: status}
	}
}
