package load

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

// clockTick is the unit of utime and stime in /proc/PID/stat (USER_HZ, 100 on Linux for
// every architecture Berth builds for).
const clockTick = 10 * time.Millisecond

// parseStatCPU returns utime+stime, in clock ticks, from the text of /proc/PID/stat. The
// command name (field 2) is parenthesised and may hold spaces and parentheses, so fields
// are counted from the last ')'.
func parseStatCPU(stat []byte) (int64, error) {
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, fmt.Errorf("parse stat: no command name")
	}
	// After ") " come field 3 (state) onwards; utime and stime are fields 14 and 15.
	fields := bytes.Fields(stat[end+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("parse stat: %d fields after the command name, want at least 13", len(fields))
	}
	var sum int64
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(string(f), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse stat: %w", err)
		}
		sum += n
	}
	return sum, nil
}

// procCPU returns the CPU time process pid has used so far, to clock-tick resolution.
func procCPU(pid int) (time.Duration, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read cpu time of pid %d: %w", pid, err)
	}
	ticks, err := parseStatCPU(raw)
	if err != nil {
		return 0, fmt.Errorf("read cpu time of pid %d: %w", pid, err)
	}
	return time.Duration(ticks) * clockTick, nil
}

// selfCPU returns the CPU time this process has used so far.
func selfCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("read own cpu time: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// cpuMeter measures the CPU time a process (pid > 0) and this client use across a span.
type cpuMeter struct {
	pid               int
	proc0, self0      time.Duration
	Proc, Self, Total time.Duration // set by stop; Total is wall time
	t0                time.Time
}

func startCPU(pid int) (*cpuMeter, error) {
	m := &cpuMeter{pid: pid, t0: time.Now()}
	var err error
	if m.proc0, err = procCPU(pid); err != nil {
		return nil, err
	}
	if m.self0, err = selfCPU(); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *cpuMeter) stop() error {
	m.Total = time.Since(m.t0)
	p, err := procCPU(m.pid)
	if err != nil {
		return err
	}
	s, err := selfCPU()
	if err != nil {
		return err
	}
	m.Proc, m.Self = p-m.proc0, s-m.self0
	return nil
}
