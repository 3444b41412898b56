package process

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// procStat is what the driver reads from /proc/<pid>/stat (see proc(5)).
type procStat struct {
	pid, ppid, pgrp, session int
	state                    byte
	// CPU times in clock ticks: own user and system time, and that of reaped children.
	utime, stime, cutime, cstime uint64
	startTime                    uint64 // clock ticks after boot (field 22)
	exitCode                     int    // wait status of a zombie (field 52)
}

// dead reports a process that has exited but may not have been reaped.
func (p procStat) dead() bool { return p.state == 'Z' || p.state == 'X' || p.state == 'x' }

func (p procStat) cpuTicks() uint64 { return p.utime + p.stime + p.cutime + p.cstime }

// readStat reads /proc/<pid>/stat; a process that does not exist yields fs.ErrNotExist.
func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		if errors.Is(err, unix.ESRCH) {
			return procStat{}, fs.ErrNotExist
		}
		return procStat{}, err
	}
	return parseStat(b)
}

// parseStat parses a stat line. The command name (field 2) is in parentheses and may
// itself contain spaces and parentheses, so fields are counted from the last ')'.
func parseStat(b []byte) (procStat, error) {
	open, closing := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || closing < open {
		return procStat{}, fmt.Errorf("parse /proc stat %q: no command name", b)
	}
	var p procStat
	var err error
	if p.pid, err = strconv.Atoi(string(bytes.TrimSpace(b[:open]))); err != nil {
		return procStat{}, fmt.Errorf("parse /proc stat: pid: %w", err)
	}
	f := strings.Fields(string(b[closing+1:])) // f[0] is field 3 (state)
	if len(f) < 20 {
		return procStat{}, fmt.Errorf("parse /proc stat of %d: %d fields", p.pid, len(f)+2)
	}
	field := func(n int) uint64 { // n is the 1-based field number of proc(5)
		if n-3 >= len(f) {
			return 0
		}
		v, perr := strconv.ParseUint(f[n-3], 10, 64)
		if perr != nil && err == nil {
			err = fmt.Errorf("parse /proc stat of %d: field %d: %w", p.pid, n, perr)
		}
		return v
	}
	p.state = f[0][0]
	p.ppid, p.pgrp, p.session = int(field(4)), int(field(5)), int(field(6))
	p.utime, p.stime, p.cutime, p.cstime = field(14), field(15), field(16), field(17)
	p.startTime = field(22)
	if len(f) >= 52-2 {
		p.exitCode = int(field(52))
	}
	if err != nil {
		return procStat{}, err
	}
	return p, nil
}

// readMemory returns VmRSS and VmHWM of pid in bytes; both are 0 for a zombie.
func readMemory(pid int) (rss, hwm int64, err error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0, err
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		var dst *int64
		switch {
		case strings.HasPrefix(line, "VmRSS:"):
			dst = &rss
		case strings.HasPrefix(line, "VmHWM:"):
			dst = &hwm
		default:
			continue
		}
		parts := strings.Fields(line) // "VmRSS:", "1234", "kB"
		if len(parts) >= 2 {
			kb, perr := strconv.ParseInt(parts[1], 10, 64)
			if perr != nil {
				return 0, 0, fmt.Errorf("parse /proc/%d/status: %w", pid, perr)
			}
			*dst = kb * 1024
		}
	}
	return rss, hwm, sc.Err()
}

// scan returns the stat of every process that keep accepts, zombies included. Processes
// that vanish during the scan are skipped.
func scan(keep func(procStat) bool) ([]procStat, error) {
	d, err := os.Open("/proc")
	if err != nil {
		return nil, fmt.Errorf("scan /proc: %w", err)
	}
	names, err := d.Readdirnames(-1)
	_ = d.Close()
	if err != nil {
		return nil, fmt.Errorf("scan /proc: %w", err)
	}
	var out []procStat
	for _, n := range names {
		if n[0] < '0' || n[0] > '9' {
			continue
		}
		pid, err := strconv.Atoi(n)
		if err != nil {
			continue
		}
		st, err := readStat(pid)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return nil, err
		}
		if keep(st) {
			out = append(out, st)
		}
	}
	return out, nil
}

// inSessions accepts processes of the given sessions.
func inSessions(sids ...int) func(procStat) bool {
	return func(p procStat) bool {
		for _, s := range sids {
			if p.session == s {
				return true
			}
		}
		return false
	}
}

// clockTicks is USER_HZ, the unit of CPU times in /proc: AT_CLKTCK from the auxiliary
// vector, or 100 (the value on every Linux architecture Go supports) if it cannot be read.
var clockTicks = sync.OnceValue(func() uint64 {
	const atClkTck = 17
	b, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return 100
	}
	for ; len(b) >= 16; b = b[16:] {
		if binary.NativeEndian.Uint64(b) == atClkTck {
			if v := binary.NativeEndian.Uint64(b[8:]); v > 0 {
				return v
			}
		}
	}
	return 100
})

// bootID identifies this boot of the host: start times and pids mean nothing across boots.
var bootID = sync.OnceValue(func() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
})
