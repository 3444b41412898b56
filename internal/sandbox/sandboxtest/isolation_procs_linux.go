package sandboxtest

import (
	"os"
	"strconv"
	"strings"
	"syscall"

	"berth.dev/berth/internal/sandbox"
)

// A sandbox sees only its own processes in /proc, and cannot signal another session's
// processes or the host's.
func testOtherSessionProcs(h *harness) {
	a, b := h.startMarked(sandbox.Spec{}), h.startMarked(sandbox.Spec{})
	aid := h.id(a)
	var child struct {
		PID int `json:"pid"`
	}
	h.invoke(a.started, map[string]any{"op": "spawn"}, &child)
	aHost := hostPIDs(a.mark) // empty where sandboxed processes are not host processes
	var aProcs []proc
	for _, pid := range aHost {
		aProcs = append(aProcs, h.hostProc(pid))
	}
	h.t.Logf("sandbox A: pid %d inside, host pids %v", aid.PID, aHost)

	self := hostCmdline(os.Getpid())
	sawItself, foreign := false, 0
	for _, p := range h.procs(b) {
		switch {
		case p.Mark == b.mark:
			sawItself = true
		case p.Mark == a.mark:
			h.t.Errorf("sandbox B sees sandbox A's process %d (%s)", p.PID, p.Cmdline)
		case p.Cmdline != "" && p.Cmdline == self:
			h.t.Errorf("sandbox B sees the test process as pid %d", p.PID)
		case p.Cmdline != "" && p.Cmdline == hostCmdline(p.PID):
			if foreign++; foreign <= 5 {
				h.t.Errorf("sandbox B sees host process %d (%s)", p.PID, p.Cmdline)
			}
		}
	}
	if !sawItself {
		h.t.Fatal("sandbox B does not see itself in its /proc: the procs probe does not work here")
	}
	if foreign > 5 {
		h.t.Errorf("… and %d more host processes", foreign-5)
	}

	targets := aHost
	if h.opts.HostPIDs {
		targets = append(targets, aid.PID, child.PID)
	}
	for _, pid := range targets {
		if r := h.kill(b, pid, int(syscall.SIGKILL)); r.OK {
			h.t.Logf("sandbox B's kill(%d, SIGKILL) succeeded (it hit a process of its own, or A's: checked below)", pid)
		}
	}
	if r := h.kill(b, os.Getpid(), 0); r.OK && !b.owns(h, os.Getpid()) {
		h.t.Errorf("sandbox B can signal the test process (kill(%d, 0) succeeded)", os.Getpid())
	}
	for _, p := range aProcs {
		if state, start, err := readProc(p.pid); err != nil || start != p.startTime || state == "Z" {
			h.t.Errorf("sandbox A's host process %d died after sandbox B tried to kill it", p.pid)
		}
	}
	select {
	case <-a.Done():
		h.t.Fatalf("sandbox A exited after sandbox B tried to kill its processes: %v", a.ExitErr())
	default:
	}
	if got := h.id(a); got.Nonce != aid.Nonce {
		h.t.Errorf("sandbox A answers as another agent (%s, was %s) after sandbox B's kills", got.Nonce, aid.Nonce)
	}
}

// owns reports whether pid is, in s's own /proc, one of s's processes.
func (s *marked) owns(h *harness, pid int) bool {
	for _, p := range h.procs(s) {
		if p.PID == pid && p.Mark == s.mark {
			return true
		}
	}
	return false
}

// hostCmdline is the command line of host process pid, arguments joined by spaces, or "".
func hostCmdline(pid int) string {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return ""
	}
	return strings.TrimRight(strings.ReplaceAll(string(raw), "\x00", " "), " ")
}
