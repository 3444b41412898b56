package gvisor

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// deniedSyscalls fail with EPERM inside a sandbox, as they do under the linuxns driver:
// they change the mount table, namespaces or the machine, or are kernel surface agents do
// not need. The sentry implements most of them only for the sandbox itself, so this is
// defence in depth and consistency between drivers, not the isolation boundary.
var deniedSyscalls = []string{
	"mount", "umount2", "pivot_root", "chroot",
	"fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree",
	"unshare", "setns",
	"ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
	"kexec_load", "kexec_file_load", "reboot",
	"init_module", "finit_module", "delete_module",
	"bpf", "perf_event_open", "userfaultfd",
	"keyctl", "add_key", "request_key",
	"open_by_handle_at", "name_to_handle_at",
	"swapon", "swapoff", "acct", "syslog", "quotactl",
	"settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
	"iopl", "ioperm", "personality", "lookup_dcookie",
	"io_uring_setup", "io_uring_enter", "io_uring_register",
	"fanotify_init", "vhangup", "sethostname", "setdomainname",
}

// nsFlags are the clone flags that would create namespaces.
var nsFlags = []uint64{
	unix.CLONE_NEWUSER, unix.CLONE_NEWNS, unix.CLONE_NEWNET, unix.CLONE_NEWPID,
	unix.CLONE_NEWUTS, unix.CLONE_NEWIPC, unix.CLONE_NEWCGROUP, unix.CLONE_NEWTIME,
}

// seccompSpec is the filter runsc loads inside the sandbox (--oci-seccomp): the deny-list
// and clone with any namespace flag (one rule per flag: a rule's conditions are ANDed).
//
// clone3 is left alone. Its flags live in memory a filter cannot read, so linuxns answers
// it with ENOSYS for libc to fall back to clone; but Debian's runsc (2022) ignores errnoRet
// and answers EPERM, which libc does not retry, and every pthread_create failed ("can't
// start new thread" in Python). So clone3 with namespace flags is not filtered here; any
// namespace it made would be the sentry's own, inside gVisor, not the host kernel's.
func seccompSpec() *specs.LinuxSeccomp {
	eperm := uint(unix.EPERM)
	s := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Architectures: []specs.Arch{specs.ArchX86_64},
		Syscalls: []specs.LinuxSyscall{
			{Names: deniedSyscalls, Action: specs.ActErrno, ErrnoRet: &eperm},
		},
	}
	for _, f := range nsFlags {
		s.Syscalls = append(s.Syscalls, specs.LinuxSyscall{
			Names: []string{"clone"}, Action: specs.ActErrno, ErrnoRet: &eperm,
			Args: []specs.LinuxSeccompArg{{Index: 0, Value: f, ValueTwo: f, Op: specs.OpMaskedEqual}},
		})
	}
	return s
}
