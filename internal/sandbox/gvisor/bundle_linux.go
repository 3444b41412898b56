package gvisor

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/sandbox/rootfs"
)

// cpuPeriod is the CFS period of the CPU limit, in µs.
const cpuPeriod = 100000

// bundleSpec is what a sandbox's config.json is made from.
type bundleSpec struct {
	Root    string        // the root filesystem tree on the host
	Binds   []rootfs.Bind // host trees bound read-only (code zips)
	CodeDir string        // bound at WorkDir, or ""
	WorkDir string
	Argv    []string
	Env     []string
	NetNS   string // path of the network namespace
	Cgroup  string // cgroupsPath
	Limits  sandbox.Limits
	Seccomp *specs.LinuxSeccomp // nil if this runsc cannot load one
}

// ociSpec builds the runtime spec. The root is not marked read-only: runsc's overlay
// (--overlay2=all:memory) only wraps writable mounts, and wrapping is what keeps the shared
// tree unchanged while the agent may write to its own view.
func ociSpec(b bundleSpec) *specs.Spec {
	s := &specs.Spec{
		Version:  specs.Version,
		Process:  process(b.Argv, b.Env, b.WorkDir, b.Limits.Pids),
		Root:     &specs.Root{Path: b.Root},
		Hostname: "sandbox",
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "mode=755"}},
			{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		},
		Linux: &specs.Linux{
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace},
				{Type: specs.NetworkNamespace, Path: b.NetNS},
				{Type: specs.IPCNamespace},
				{Type: specs.UTSNamespace},
				{Type: specs.MountNamespace},
			},
			CgroupsPath: b.Cgroup,
			Resources:   resources(b.Limits),
			Seccomp:     b.Seccomp,
		},
	}
	for _, bind := range b.Binds {
		s.Mounts = append(s.Mounts, specs.Mount{
			Destination: bind.Target, Type: "bind", Source: bind.Source,
			Options: []string{"rbind", "ro", "nosuid", "nodev"},
		})
	}
	if b.CodeDir != "" {
		s.Mounts = append(s.Mounts, specs.Mount{
			Destination: b.WorkDir, Type: "bind", Source: b.CodeDir,
			Options: []string{"rbind", "nosuid", "nodev"}, // writable, so runsc overlays it in memory
		})
	}
	tmp := []string{"nosuid", "nodev", "mode=1777"}
	if b.Limits.DiskBytes > 0 {
		tmp = append(tmp, "size="+strconv.FormatInt(b.Limits.DiskBytes, 10))
	}
	s.Mounts = append(s.Mounts, specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: tmp})
	return s
}

// process is the agent's (or an Exec'd command's) process: the sandbox user, no
// capabilities at all, no_new_privs, and at most pids tasks of the sandbox user (the
// sentry enforces RLIMIT_NPROC over the whole sandbox, whose processes all run as that
// user).
func process(argv, env []string, cwd string, pids int64) *specs.Process {
	p := &specs.Process{
		User:            specs.User{UID: rootfs.SandboxUID, GID: rootfs.SandboxGID},
		Args:            argv,
		Env:             env,
		Cwd:             cwd,
		Capabilities:    &specs.LinuxCapabilities{},
		NoNewPrivileges: true,
	}
	if pids > 0 {
		p.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NPROC", Hard: uint64(pids), Soft: uint64(pids)}}
	}
	return p
}

// hostPids is the host's pids limit for a sandbox whose agent may have pids tasks. The
// host counts the sentry's and the gofer's threads and, on the ptrace platform, a stub
// thread for every thread of the agent, so the agent's own limit is RLIMIT_NPROC inside
// the sentry; the host limit is a backstop against a runaway sentry.
func hostPids(pids int64) int64 {
	if pids <= 0 {
		return 0
	}
	return 4*pids + 256
}

func resources(l sandbox.Limits) *specs.LinuxResources {
	r := &specs.LinuxResources{}
	if l.MemoryBytes > 0 {
		r.Memory = &specs.LinuxMemory{Limit: &l.MemoryBytes}
	}
	if n := hostPids(l.Pids); n > 0 {
		r.Pids = &specs.LinuxPids{Limit: &n}
	}
	if l.CPUs > 0 {
		quota, period := int64(l.CPUs*cpuPeriod), uint64(cpuPeriod)
		r.CPU = &specs.LinuxCPU{Quota: &quota, Period: &period}
	}
	return r
}

// writeJSON writes v as the file path, readable by root only.
func writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", filepath.Base(path), err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return nil
}
