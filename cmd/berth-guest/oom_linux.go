package main

import (
	"bytes"
	"errors"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// The guest kernel has no cgroups and no VM event counters: its log is where an
// out-of-memory kill shows ("Out of memory: Killed process <pid> (<comm>) ...").

// oomMark is the kernel log message that an out-of-memory kill writes.
var oomMark = []byte("Killed process ")

// kmsgScan reads the kernel log records with a sequence number above after, and returns
// the last sequence number seen and whether one of those records is an out-of-memory
// kill. It reads without blocking and gives up quietly on errors: it serves diagnostics.
func kmsgScan(after int64) (last int64, oom bool) {
	last = after
	fd, err := unix.Open("/dev/kmsg", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return last, false
	}
	defer func() { _ = unix.Close(fd) }()
	buf := make([]byte, 8192)
	for {
		n, err := unix.Read(fd, buf)
		if errors.Is(err, unix.EPIPE) || errors.Is(err, unix.EINTR) {
			continue // records overwritten before we read them
		}
		if err != nil || n <= 0 {
			return last, oom
		}
		// "<prio>,<seq>,<usec>,<flags>[,...];<message>\n"
		head, msg, ok := bytes.Cut(buf[:n], []byte(";"))
		if !ok {
			continue
		}
		f := bytes.Split(head, []byte(","))
		if len(f) < 2 {
			continue
		}
		seq, err := strconv.ParseInt(string(f[1]), 10, 64)
		if err != nil || seq <= after {
			continue
		}
		last = max(last, seq)
		if bytes.Contains(msg, oomMark) {
			oom = true
		}
	}
}

// oomSince reports whether the kernel killed a process for lack of memory after the
// kernel log record after. The kernel logs the kill right after sending SIGKILL, so when
// the agent died of SIGKILL and no record is there yet, it looks again for a moment.
func oomSince(after int64, killed bool) bool {
	tries := 1
	if killed {
		tries = 10
	}
	for i := range tries {
		if _, oom := kmsgScan(after); oom {
			return true
		}
		if i+1 < tries {
			time.Sleep(20 * time.Millisecond)
		}
	}
	return false
}
