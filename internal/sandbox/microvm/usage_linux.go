package microvm

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"berth.dev/berth/internal/sandbox"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times (100 on every Linux ABI Go
// supports).
const clockTicks = 100

// Usage implements sandbox.Sandbox. It reads the QEMU process from /proc: CPU time is its
// user+system time (all vCPU and device threads, so it includes the guest kernel's and
// the VMM's own work, and under TCG the translation overhead); memory is its resident set
// now and at peak (VmRSS, VmHWM). Resident memory counts pages shared with other VMs
// through the template's RAM file and QEMU's binary in full.
func (s *vmSandbox) Usage(ctx context.Context) (sandbox.Usage, error) {
	select {
	case <-s.m.Done():
		return sandbox.Usage{}, fmt.Errorf("microvm: usage of %s: the VM has ended", s.id)
	default:
	}
	return procUsage(s.m.PID())
}

func procUsage(pid int) (sandbox.Usage, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return sandbox.Usage{}, fmt.Errorf("microvm: usage: %w", err)
	}
	f := statFields(b)
	if len(f) < 20 {
		return sandbox.Usage{}, fmt.Errorf("microvm: usage: short /proc/%d/stat", pid)
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, _ := strconv.ParseInt(f[12], 10, 64) // field 15
	u := sandbox.Usage{CPUTime: time.Duration(utime+stime) * time.Second / clockTicks}
	st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return sandbox.Usage{}, fmt.Errorf("microvm: usage: %w", err)
	}
	for line := range strings.Lines(string(st)) {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			u.MemoryBytes = kb << 10
		case "VmHWM":
			u.MemoryPeakBytes = kb << 10
		}
	}
	u.MemoryPeakBytes = max(u.MemoryPeakBytes, u.MemoryBytes)
	return u, nil
}

// statFields splits /proc/<pid>/stat after the command name: element 0 is field 3.
func statFields(b []byte) []string {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(b[i+1:]))
}

// procStat returns pid's state and start time (fields 3 and 22).
func procStat(pid int) (state, start string, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", "", err
	}
	f := statFields(b)
	if len(f) < 20 {
		return "", "", fmt.Errorf("short /proc/%d/stat", pid)
	}
	return f[0], f[19], nil
}
