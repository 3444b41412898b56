// Package gvisor is the "gvisor" sandbox driver: every sandbox is a gVisor container run by
// runsc, from Debian's `runsc` package (apt-get install runsc; Driver.Packages lists it for
// `berth setup`). gVisor's sentry is a kernel written in Go that runs in user space and
// serves the agent's system calls itself, so an agent never talks to the host kernel
// directly (ISOLATION.md §3): the hardened option on hosts without KVM.
//
// How a sandbox starts: the driver creates the sandbox's cgroup (package cgroup) and its
// network namespace, writes an OCI runtime bundle (a
// runtime-spec config.json) into StateDir/sandboxes/<id>, and runs
//
//	runsc --root StateDir/sandboxes/<id>/runsc --network=host --overlay2=all:memory \
//	      --oci-seccomp run --bundle StateDir/sandboxes/<id> --pid-file <fifo> <id>
//
// as a child of Berth. runsc stays in the foreground: it is the parent of the sentry and
// the gofer, reaps them, deletes the container when the agent exits, and exits with the
// agent's exit status, which is how Done and ExitErr learn that the agent ended (no
// polling). Start returns once runsc has created the sandbox (it writes the sentry's pid
// into the pid file, a FIFO here); a program that cannot be executed then ends the sandbox
// at once, and ExitErr carries runsc's message.
//
// What the agent sees:
//
//   - the root filesystem is Spec.RootFS (an OCI image's tree, shared by every sandbox of
//     that image) or, for code zips (RootFS ""), the base skeleton of package rootfs with
//     the host's /usr (and /etc/ssl, /etc/alternatives) bound read-only. runsc wraps the
//     root and every writable bind in an overlay whose upper layer is the sandbox's memory:
//     the agent may change its own view where file permissions let it, never the shared
//     tree, and its changes vanish with the sandbox;
//   - Spec.CodeDir is bound at Spec.WorkDir (default /var/task) under the same overlay;
//   - a tmpfs /tmp of Limits.DiskBytes, /proc, a read-only /sys and gVisor's own /dev;
//   - uid and gid 65534, no capabilities, no_new_privs, and the same seccomp deny-list as
//     the linuxns driver (mount, unshare, setns, clone with namespace flags, ptrace, bpf,
//     keyctl, io_uring, …), which runsc loads inside the sentry (--oci-seccomp) when it
//     can. The sentry is the agent's kernel and runsc confines the sentry with its own
//     filter, so this is consistency between drivers more than the isolation boundary;
//   - a network namespace of its own: loopback only, or what Config.Network (Berth's
//     egress manager) prepares for the Spec's egress policy, whose environment (proxy
//     variables) is added to the agent's. With --network=host the sentry uses the host
//     network stack of that namespace, so the namespace's routes and the host's rules for
//     it apply as they do under linuxns; Berth reaches the agent by dialling 127.0.0.1
//     from inside it (setns), and no port is exposed on the host.
//
// Limits: memory and CPU bound the sandbox's cgroup, which holds the sentry, the gofer and
// the host threads that run the agent's code; Usage reads it. The cgroup is made before
// runsc starts, so runsc joins it and leaves it in place, and an out-of-memory kill is
// still readable when the agent has ended: ExitErr then says so. Limits.Pids bounds the
// agent's processes through RLIMIT_NPROC, which the sentry enforces for the sandbox user
// over the whole sandbox; the cgroup's pids limit is only a backstop (4×Pids+256), since
// the host counts the sentry's threads and, on the ptrace platform, a thread for every
// thread of the agent. The overlay's upper layer is memory of the sandbox, so files the
// agent writes outside /tmp count against its memory limit; only /tmp is bounded by
// Limits.DiskBytes.
//
// Exec runs `runsc exec` with a process.json (uid 65534, no capabilities, the sandbox's
// environment plus the request's); cancelling its context kills the process inside the
// sandbox by its sandbox pid (`runsc kill --pid`).
//
// Stop sends SIGTERM to the agent (`runsc kill`), SIGKILLs the sentry after the grace
// period (or when its context ends), waits for runsc to exit, kills whatever is left in
// the cgroup, removes the cgroup's directories in every hierarchy (runsc also makes them
// in name=systemd, freezer, devices, blkio and cpuset, and leaves them when it is killed),
// closes the network namespace and removes the sandbox's directory (bundle and runsc
// state). Reclaim does the same from a Sandbox.State after Berth crashed: runsc dies with
// Berth (parent-death signal) and the sentry and gofer with runsc. `runsc delete` is not
// used: it waits for a sentry whose parent may be blocked on the container's lock.
//
// Known limits, stated honestly:
//
//   - gVisor checks file permissions itself, as the sandbox user, on the trees as they are
//     on the host: a root filesystem or code directory whose top directory others may not
//     enter (mode 0700, as os.MkdirTemp makes) is refused by Start. The agent can write
//     next to its code only if the code tree's permissions let uid 65534: Berth's prepared
//     code zips give it their top directory (the linuxns driver gives the sandbox user the
//     upper layer instead).
//   - runsc adds HOME to the agent's environment when Spec.Env lacks it (from the root's
//     /etc/passwd, else "/"), so the environment is Spec.Env exactly only if it sets HOME.
//   - Pids the agent sees are the sandbox's own, not host pids.
//   - runsc reports an agent killed by signal n as exit status 128+n, which ExitErr reports
//     as that signal; an agent that itself exits with a status above 128 looks the same.
//     Status 128 with a runsc message means runsc failed (sandbox.ExitError.Detail).
//   - What an Exec'd command leaves running in the background lives until Stop.
//   - Egress other than NetworkNone needs Config.Network (sandbox.Options.Network).
//   - No checkpoint/restore: Debian's runsc (2022-12-19) cannot checkpoint a sandbox on the
//     host network ("checkpoint not supported when using hostinet"), nor, with its own
//     network stack, an agent blocked in accept ("endpoint still has waiters upon save");
//     restoring a trivial container took as long as starting it.
//   - Berth must run as root (runsc needs it here; rootless runsc was not tried).
//
// The package works on Linux only.
package gvisor
