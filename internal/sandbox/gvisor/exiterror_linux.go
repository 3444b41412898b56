package gvisor

import (
	"berth.dev/berth/internal/sandbox"
	"errors"
	"os/exec"
	"strings"
	"syscall"
)

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
func exitError(status int) *sandbox.ExitError {
	switch {
	case status == 0:
		return nil
	case status < 0:
		return &sandbox.ExitError{Code: -1}
	case status > 128 && status <= 128+64:
		return &sandbox.ExitError{Code: -1, Signal: syscall.Signal(status - 128)}
	default:
		return &sandbox.ExitError{Code: status}
	}
}
