// Package linuxns is the "linuxns" sandbox driver: every sandbox is a set of fresh Linux
// namespaces built directly from Go, the default isolation wherever KVM is absent.
//
// How a sandbox starts (ISOLATION.md §2a): the driver creates the sandbox's cgroup and its
// network namespace, then forks /proc/self/exe (Berth itself, or a test binary that imports
// this package) from a thread inside that network namespace, with new PID, mount, UTS and
// IPC namespaces. The child's first act, in this package's init function, is to recognise
// that it is a sandbox init and never return to the normal program: it waits on a pipe
// until the parent has placed it in the cgroup and sent the configuration, enters a new
// cgroup namespace, and builds the root filesystem in its private mount namespace:
//
//   - a tmpfs, bounded by Limits.DiskBytes, mounted over the sandbox's (empty) state
//     directory, holds every writable layer; it exists only in the sandbox's mount
//     namespace and vanishes with it;
//   - the root is an overlay of a read-only lower tree (the OCI image's root filesystem,
//     or for code zips the base skeleton of package rootfs with the host's /usr bound
//     read-only) and an upper layer in that tmpfs, mounted nosuid and nodev: the agent
//     can change its own view, never the shared tree;
//   - a code zip's tree is a second overlay at the working directory (/var/task), its upper
//     layer owned by the sandbox user, so the agent may add files next to its code;
//   - a fresh /proc of the sandbox's PID namespace, a minimal /dev (null, zero, full,
//     random, urandom, tty bound from the host; shm), and a tmpfs /tmp;
//   - pivot_root into it and detach the old root.
//
// Then it drops every capability from the bounding set, switches to uid and gid 65534,
// sets no_new_privs, installs a seccomp deny-list (mount, unshare, setns, namespace flags
// to clone, ptrace, bpf, keyctl, module loading, kexec, io_uring, clock setting, …) and
// execs the agent, which becomes PID 1 of its PID namespace: no helper process stays
// resident. Start returns once the exec has happened, or with the step that failed.
//
// The network namespace holds only loopback unless the egress policy adds more; Berth
// reaches the agent by creating sockets inside it (setns), so no port is exposed on the
// host. Exec enters the sandbox's PID, network, UTS, IPC and cgroup namespaces, runs in
// its root (chroot into /proc/<pid>/root) with the same privileges and filter, inside its
// cgroup.
//
// Limits: CPU (a CFS quota), memory (the writable tmpfs layers count towards it) and pids
// through cgroups v1 or v2 (package cgroup); Usage reads the same accounting. A sandbox
// killed for exceeding its memory reports it in ExitErr.
//
// Stop sends SIGTERM to the agent if it handles it (as PID 1 it would otherwise ignore it,
// so an agent without a handler gets no grace period), SIGKILLs the whole cgroup after the
// grace period (the kernel then tears down the PID namespace, the mounts and their tmpfs),
// removes the cgroup and the state directory, and closes the network namespace: nothing of
// the sandbox remains.
//
// Known limits: the agent is PID 1, so orphaned grandchildren it does not reap stay zombies
// until the sandbox ends (they count towards the pids limit); the seccomp filter exists for
// amd64 only (elsewhere the driver reports itself unavailable); no user namespace is used
// (the agent is an unprivileged uid of the host, with no capabilities); Berth must run as
// root.
//
// The package works on Linux only.
package linuxns
