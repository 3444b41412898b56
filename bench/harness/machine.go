package harness

import (
	"context"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"berth.dev/berth/bench/stats"
)

// DescribeMachine describes this host: CPU model and cores (/proc/cpuinfo), memory
// (/proc/meminfo), kernel (uname), OS (/etc/os-release), Go, and the versions of berth
// (berthVersion) and of the sandbox tools that are installed: crun, bwrap, runsc,
// qemu-system-x86_64 and python3.
func DescribeMachine(ctx context.Context, berthVersion string) stats.Machine {
	m := stats.Machine{Cores: runtime.NumCPU(), Go: runtime.Version(), Versions: map[string]string{"berth": berthVersion}}
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(raw), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if h, err := ReadHostMemory(); err == nil {
		m.MemoryGiB = float64(h.Total*100/(1<<30)) / 100
	}
	var u unix.Utsname
	if err := unix.Uname(&u); err == nil {
		m.Kernel = unix.ByteSliceToString(u.Release[:]) + " " + unix.ByteSliceToString(u.Machine[:])
	}
	if raw, err := os.ReadFile("/etc/os-release"); err == nil {
		for line := range strings.SplitSeq(string(raw), "\n") {
			if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
				m.OS = strings.Trim(v, `"`)
			}
		}
	}
	for _, tool := range []struct{ name, bin, flag string }{
		{"crun", "crun", "--version"},
		{"bwrap", "bwrap", "--version"},
		{"runsc", "runsc", "--version"},
		{"qemu", "qemu-system-x86_64", "--version"},
		{"python3", "python3", "--version"},
	} {
		if v := ToolVersion(ctx, tool.bin, tool.flag); v != "" {
			m.Versions[tool.name] = v
		}
	}
	return m
}

// ToolVersion runs `bin flag` and returns the first line of its output, or "" when bin is
// not installed or fails.
func ToolVersion(ctx context.Context, bin, flag string) string {
	path, err := exec.LookPath(bin)
	if err != nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, flag).CombinedOutput() //nolint:gosec // fixed tool names
	if err != nil {
		return ""
	}
	first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return strings.TrimSpace(first)
}
