// Package microvm is the "microvm" sandbox driver: every sandbox is its own virtual
// machine, a QEMU -M microvm process (through package vmm) booted from a minimal guest
// kernel with cmd/berth-guest as PID 1.
//
// How a sandbox starts:
//
//   - Disks. The spec's root filesystem (an image's RootFS, or for code zips the base
//     tree of BuildBaseRoot: the rootfs skeleton plus a shell and Python 3.11 with their
//     libraries) becomes a read-only ext4 image (BuildDiskImage, mkfs.ext4 -d), and so does
//     CodeDir. Images are cached in Config.CacheDir by the tree's identity.
//   - Template. For each distinct VM shape (disks, memory, vCPUs, accelerator, kernel,
//     guest init) the driver cold-boots one VM with its RAM in a shared file, waits until
//     berth-guest says "ready" (root mounted under a tmpfs overlay, network up, agent
//     network namespace made), and snapshots it with x-ignore-shared: the RAM file is the
//     snapshot's memory, the device state a few KB. The snapshot is taken before any agent
//     runs, so one template serves every session of every version that uses the same
//     disks, whatever its command, environment or id.
//   - Restore. Each session is a new QEMU that maps the template's RAM file copy-on-write
//     (pages shared through the page cache) and loads the device state. The driver then
//     sends Start on the control channel (a virtio-serial port on a unix socket): the
//     agent's argv, environment and working directory, 64 bytes of fresh entropy that the
//     guest credits and reseeds its CRNG with, the wall-clock time, and a random token.
//     berth-guest starts the agent as uid/gid 65534 in a network namespace holding only lo,
//     and Start returns.
//   - Network. The VM has one NIC on QEMU's user-mode network with restrict=on (no route
//     out) and one port forward from a random 127.0.0.1 port to berth-guest's relay port.
//     DialContext connects there and presents the token; berth-guest then dials the agent's
//     port inside the agent's namespace. Other local users who find the port cannot use it
//     without the token, and the agent cannot reach the relay or the host.
//   - Output and exit. The agent's stdout and stderr, and its exit status, come back on the
//     control channel; Done closes on the exit or when the VM ends.
//   - Exec runs commands next to the agent through the same relay.
//   - Usage is read from the QEMU process in /proc (utime+stime, VmRSS, VmHWM): it
//     includes the VMM's own overhead, and RSS counts shared template pages in full. No
//     cgroup is used yet, so Spec.Limits bound only the VM's size (memory, vCPUs).
//   - Stop kills QEMU, waits for it and removes the sandbox's directory (sockets only: all
//     writable guest state lives in guest RAM). Reclaim kills a QEMU left by a crashed
//     Berth, found by pid, start time and command line from State.
//
// Accelerator: KVM (-accel kvm -cpu host) only when a boot test of the guest under KVM
// passes (cached next to the kernel); otherwise TCG, QEMU's software CPU, but only if
// Config.AllowTCG. On kvm_pvm hosts (/dev/kvm present but unable to boot stock kernels)
// the boot test fails and TCG is the only option; there a restore takes ~0.2 s, a
// template's cold boot seconds, and guest code runs many times slower.
//
// Limits, stated honestly: egress is NetworkNone only; Spec.Limits.CPUs is rounded up to
// whole vCPUs and not otherwise enforced, and Pids and DiskBytes are not enforced (the
// guest's writable layer is a tmpfs inside its RAM); all sessions of a template start from
// the same guest kernel state apart from the reseed (boot id, ASLR of already-running
// guest processes); the base tree for code zips only holds Python 3.11 and a shell.
//
// The package works on Linux only; elsewhere it is empty and registers nothing.
package microvm
