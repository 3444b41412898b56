// Package seccomp is the system-call deny-list every Linux sandbox of Berth applies to its
// agent: the linuxns driver in the sandbox's init before it execs the agent, and
// cmd/berth-guest, PID 1 of a microVM guest, before it execs the agent or a command. The
// gvisor driver hands runsc the same list by name (gvisor/seccomp_linux.go). It is a
// classic BPF program of its own (no libseccomp): denied calls fail with EPERM, clone with
// namespace flags with EPERM, clone3 with ENOSYS (so libcs fall back to clone), and calls
// of another architecture or the x32 ABI kill the process.
package seccomp

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// nsFlags are the clone flags that would create namespaces; clone with any of them fails.
const nsFlags = unix.CLONE_NEWUSER | unix.CLONE_NEWNS | unix.CLONE_NEWNET | unix.CLONE_NEWPID |
	unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWCGROUP | unix.CLONE_NEWTIME

// BPF instruction classes and fields (linux/filter.h).
const (
	bpfLD   = 0x00
	bpfJMP  = 0x05
	bpfRET  = 0x06
	bpfW    = 0x00
	bpfABS  = 0x20
	bpfJEQ  = 0x10
	bpfJGE  = 0x30
	bpfJSET = 0x40
	bpfK    = 0x00
)

// seccomp_data offsets.
const (
	offNr   = 0
	offArch = 4
	offArg0 = 16 // low 32 bits on little-endian
)

func stmt(code uint16, k uint32) unix.SockFilter { return unix.SockFilter{Code: code, K: k} }

func jump(code uint16, k uint32, jt, jf uint8) unix.SockFilter {
	return unix.SockFilter{Code: code, K: k, Jt: jt, Jf: jf}
}

// filterProgram assembles the deny-list: a foreign architecture kills the process; x32
// calls, every denied syscall and clone with namespace flags return EPERM; clone3, whose
// flags live in memory a filter cannot read, returns ENOSYS so libc falls back to clone;
// everything else is allowed.
func filterProgram() []unix.SockFilter {
	eperm := uint32(unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM))
	enosys := uint32(unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS))
	prog := []unix.SockFilter{
		stmt(bpfLD|bpfW|bpfABS, offArch),
		jump(bpfJMP|bpfJEQ|bpfK, auditArch, 1, 0),
		stmt(bpfRET|bpfK, unix.SECCOMP_RET_KILL_PROCESS),
		stmt(bpfLD|bpfW|bpfABS, offNr),
	}
	if x32Bit != 0 {
		prog = append(prog,
			jump(bpfJMP|bpfJGE|bpfK, x32Bit, 0, 1),
			stmt(bpfRET|bpfK, eperm))
	}
	// clone: deny namespace flags in its first argument.
	prog = append(prog,
		jump(bpfJMP|bpfJEQ|bpfK, uint32(unix.SYS_CLONE), 0, 4),
		stmt(bpfLD|bpfW|bpfABS, offArg0),
		jump(bpfJMP|bpfJSET|bpfK, nsFlags, 0, 1),
		stmt(bpfRET|bpfK, eperm),
		stmt(bpfRET|bpfK, unix.SECCOMP_RET_ALLOW),
		jump(bpfJMP|bpfJEQ|bpfK, uint32(unix.SYS_CLONE3), 0, 1),
		stmt(bpfRET|bpfK, enosys),
	)
	for _, nr := range deniedSyscalls {
		prog = append(prog,
			jump(bpfJMP|bpfJEQ|bpfK, uint32(nr), 0, 1),
			stmt(bpfRET|bpfK, eperm))
	}
	return append(prog, stmt(bpfRET|bpfK, unix.SECCOMP_RET_ALLOW))
}

// Install loads the filter for the calling thread only (no TSYNC), which then execs: the
// filter is inherited across execve and fork. no_new_privs must be set first.
func Install() error {
	if auditArch == 0 {
		return fmt.Errorf("seccomp: no filter for this architecture")
	}
	prog := filterProgram()
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	if _, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&fprog))); errno != 0 { //nolint:gosec // G103: the seccomp(2) ABI takes a pointer to the program
		return fmt.Errorf("seccomp: install filter: %w", errno)
	}
	return nil
}

// Supported reports whether this CPU architecture has a filter (amd64 only).
func Supported() bool { return auditArch != 0 }
