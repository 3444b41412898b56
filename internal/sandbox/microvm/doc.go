// Package microvm is the "microvm" sandbox driver: every sandbox is its own virtual
// machine, a QEMU -M microvm process (through package vmm) booted from a minimal guest
// kernel with cmd/berth-guest as PID 1.
//
// How a sandbox starts:
//
//   - Disks. The spec's root filesystem (an image's RootFS, or for code zips the base
//     tree of BuildBaseRoot: the rootfs skeleton plus a shell, the basic commands and
//     Python 3.11 with their libraries) becomes a read-only ext4 image (BuildDiskImage,
//     mkfs.ext4 -d), and so does CodeDir. Images are cached in Config.CacheDir by the
//     tree's identity. In the guest, the code disk appears at the working directory under
//     a writable copy-on-write layer, as the root does.
//   - Template. For each distinct VM shape (disks, memory, vCPUs, accelerator, kernel,
//     guest init) the driver cold-boots one VM with its RAM in a shared file, waits until
//     berth-guest says "ready" (root mounted under a tmpfs overlay, network up, agent
//     network namespace made), and snapshots it with x-ignore-shared: the RAM file is the
//     snapshot's memory, the device state a few KB. The snapshot is taken before any agent
//     runs, so one template serves every spec that uses the same disks and size.
//   - Restore from the template. A new QEMU maps the template's RAM file copy-on-write
//     (pages shared through the page cache) and loads the device state. The driver then
//     sends Start on the control channel (a virtio-serial port on a unix socket): the
//     agent's argv, environment, working directory and limits, 64 bytes of fresh entropy
//     that the guest credits and reseeds its CRNG with, the wall-clock time, and a random
//     relay token. berth-guest starts the agent and Start returns.
//   - Agent snapshots (the fast path). Once a spec — everything but its ID and output
//     writers: the version of a runtime — has been started Config.SnapshotAfter times
//     (default 2), the driver restores its template into a copy of the template's RAM
//     file, starts the agent there, waits until it answers HTTP on its first port, asks
//     the guest to pause (it holds back the agent's output), and snapshots that VM. Every
//     later sandbox of the spec restores this agent snapshot and sends Resume (new relay
//     token, fresh entropy, the time): the agent is already listening, so a session pays
//     for neither its start-up nor its imports. Its start-up output is replayed to each
//     clone's Stdout and Stderr. Agent snapshots live in CacheDir/snapshots (at most
//     Config.MaxSnapshots, least recently used evicted); they record the host's boot id
//     instead of being synced to disk (one from an earlier boot is discarded), and the
//     template path takes over when one cannot be built (an agent that never answers) or
//     restored. What clones share: the agent process's memory at the snapshot, including
//     randomness it drew in user space before (a PRNG seeded at start-up, a nonce); the
//     kernel's CRNG is reseeded per clone.
//   - Confinement. The agent and Exec commands run as uid/gid 65534 with an empty
//     capability bounding set, no_new_privs and the linuxns driver's seccomp deny-list,
//     forked from a confined thread of berth-guest in a network namespace holding only lo.
//     The root and code disks and the writable layer are mounted nosuid and nodev.
//   - Limits. The VM's memory is the session's memory limit: when the guest kernel's
//     out-of-memory killer strikes, ExitErr says so (sandbox.ExitError.OOM). Pids bounds
//     the session user's processes and threads (RLIMIT_NPROC: the guest kernel has no
//     cgroups, and every process of that user belongs to the session; default
//     DefaultPids). DiskBytes sizes the writable layer (the root's changes and /tmp), a
//     tmpfs in guest RAM (default DefaultDiskBytes, at most half the VM's memory).
//     CPUs is rounded up to whole vCPUs.
//   - Network. The VM has one NIC on QEMU's user-mode network (slirp) and one port forward
//     from a random 127.0.0.1 port to berth-guest's relay port. DialContext connects there
//     and presents the token; berth-guest then dials the agent's port inside the agent's
//     namespace. Other local users who find the port cannot use it without the token.
//     Without a network provider (Config.Network) QEMU runs in Berth's network namespace
//     with restrict=on: nothing leaves the VM, and egress is NONE only. With one, every
//     Start (template and agent-snapshot restores alike, NONE included) prepares the
//     sandbox's network for its egress policy and runs QEMU in it with restrict=off; the
//     relay forward then listens there, and DialContext connects from inside it. Slirp
//     makes each connection and datagram of the guest an ordinary socket of QEMU's, so the
//     guest reaches what the namespace reaches and the provider's rules are the policy:
//     nothing for NONE and ALLOWLIST (loopback-only namespaces), the internet but not the
//     host, private ranges or the metadata address for PUBLIC. The gateway 10.0.2.2 is the
//     namespace's own 127.0.0.1, where the provider serves the DNS forwarder (PUBLIC) or
//     the allowlist proxy (ALLOWLIST) and where Listen (sandbox.Listener) opens the
//     server's listeners, such as the agent's OTLP endpoint. berth-guest serves those
//     ports on the agent's loopback and relays them to the gateway: 127.0.0.1:53 (UDP and
//     TCP) for PUBLIC, the proxy's port (from the provider's HTTP_PROXY variables, which
//     the agent gets) for ALLOWLIST, and each port Listen opens, once it is opened. NONE
//     and ALLOWLIST agents stay in their loopback-only namespace; a PUBLIC agent runs in
//     the guest's own namespace, whose default route leads through the gateway (the guest
//     kernel has neither veth nor netfilter), where it can reach berth-guest's relay port
//     but has no token. The agent environment gains the Network's Env.
//   - Output and exit. The agent's stdout and stderr, and its exit status, come back on the
//     control channel; Done closes on the exit or when the VM ends.
//   - Exec runs commands next to the agent through the same relay.
//   - Usage is read from the QEMU process in /proc (utime+stime, VmRSS, VmHWM): it
//     includes the VMM's own overhead, and RSS counts shared template pages in full.
//   - Stop kills QEMU, waits for it, closes the sandbox's network and removes its
//     directory (sockets only: all writable guest state lives in guest RAM). Reclaim
//     kills a QEMU left by a crashed Berth, found by pid, start time and the sandbox
//     directory in its environment.
//   - Paths. The unix sockets between the driver and QEMU are reached through a
//     descriptor of the sandbox's directory (/proc/<pid>/fd/<n>/…), so data directories
//     of any depth work.
//
// Accelerator: KVM (-accel kvm -cpu host) only when a boot test of the guest under KVM
// passes (cached next to the kernel); otherwise TCG, QEMU's software CPU, but only if
// Config.AllowTCG. On kvm_pvm hosts (/dev/kvm present but unable to boot stock kernels)
// the boot test fails and TCG is the only option; there a restore of an agent snapshot
// until the agent's first answer takes ~0.3 s of CPU (QEMU translates again all the guest
// code that runs; BenchmarkRestoreToPing), a template's cold boot seconds, and guest code
// runs many times slower. Under TCG the driver gives the guest kernel the host's TSC
// frequency (clock_linux.go), or the guest's clocks would count lost timer ticks.
//
// Limits, stated honestly: without a network provider egress is NetworkNone only and
// sandboxes cannot be listened in; with one, a PUBLIC agent shares the guest's network
// namespace with berth-guest (it sees eth0 and the relay port, token-protected), the
// guest's traffic goes through slirp (slow; TCP and UDP, no ping), connections an
// agent snapshot's agent held open when it was taken do not survive into its clones (each
// has a new QEMU and network namespace), and a port opened with Listen is served in the
// guest only from then on (one control round trip, ~12 ms under TCG), so an agent that
// exports before gets a refused connection; Spec.Limits.CPUs is not enforced
// beyond whole vCPUs; Pids counts threads as well as processes, and Exec commands count
// against it; all sessions of a template or agent snapshot start from the same guest
// kernel state apart from the reseed (boot id, ASLR of already-running processes); the
// base tree for code zips only holds Python 3.11, a shell and the basic commands.
//
// The package works on Linux only; elsewhere it is empty and registers nothing.
package microvm
