package microvm

import (
	"syscall"

	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/sandbox/microvm/guestapi"
)

// detailStopped is the Detail of sandboxes ended by Stop or Reclaim.
const detailStopped = "sandbox stopped"

// agentExit is how the guest says the agent ended; memoryBytes is the VM's memory, the
// session's memory limit.
func agentExit(m guestapi.Message, memoryBytes int64) *sandbox.ExitError {
	return &sandbox.ExitError{Code: m.Code, Signal: syscall.Signal(m.Signal), OOM: m.OOM, MemoryLimit: memoryBytes}
}

// clean reports whether e is a clean exit, which ExitErr reports as nil.
func clean(e *sandbox.ExitError) bool {
	return e.Code == 0 && e.Signal == 0 && !e.OOM && e.Detail == ""
}
