// Command berth-guest is PID 1 inside a Berth microVM (see internal/sandbox/microvm).
//
// It boots the guest side of a sandbox: it mounts proc, sys and devtmpfs; brings up lo and
// eth0 (10.0.2.15/24 on QEMU's user-mode network, default route through its gateway
// 10.0.2.2, beyond which lies whatever the host's egress policy lets through, or nothing);
// mounts the root disk (the disk with serial "berth-root", ext4) read-only under an
// overlay whose upper layer is a tmpfs and switches into it; creates the agent's network
// namespace, which holds only lo; listens for relay connections on eth0; and says "ready"
// on the control channel, a virtio-serial port. The host snapshots the VM at that point.
//
// Each session's VM is a restore of that snapshot. The host then sends Start: berth-guest
// credits the host's entropy to the kernel's pool and reseeds it (RNDADDENTROPY then
// RNDRESEEDCRNG), sets the wall clock, applies the session's limits (RLIMIT_NPROC for the
// session's user, the writable layer's tmpfs size), mounts the code disk (serial
// "berth-code"), if any, at the working directory under a copy-on-write layer, serves the
// forwarded ports of Start's Network (below), and starts the agent as uid/gid 65534 with
// exactly the given environment and working directory, in its loopback-only network
// namespace, or for public egress (Network.Public) in the guest's own, which has eth0 and
// the default route. The agent and Exec commands
// are forked from a confined thread: empty capability bounding set, no_new_privs and a
// seccomp deny-list, which they inherit; every disk and the writable layer are mounted
// nosuid and nodev. It relays the agent's stdout and stderr to the host and reports its
// exit status, and whether the kernel's out-of-memory killer struck (from the kernel
// log); it reaps every zombie (it is PID 1); and on relay connections that present the
// session's token it connects to the agent's TCP ports (from inside the agent's network
// namespace) or runs commands next to the agent (Exec).
//
// Forwarded ports are the host's services for the agent: berth-guest listens on each
// (127.0.0.1:53 UDP and TCP for public egress, the allowlist proxy's port) in the agent's
// namespace and relays every connection, and every UDP client's datagrams, to the same
// port of the gateway, which the host serves from the session's network namespace. The
// host can ask for more once the agent runs (Forward, answered by Forwarded: the agent's
// OTLP endpoint).
//
// For agent snapshots the host sends Pause once the agent answers: berth-guest holds back
// the agent's output and answers Paused, and the host snapshots the VM. Each clone then
// gets Resume (a new token, fresh entropy, the time), answered by Resumed, after which the
// held-back output flows. On Start and Resume it also makes QEMU's user-mode network learn
// its MAC address (an ARP request to the gateway), so that the first forwarded connection
// need not wait for an ARP exchange.
//
// Limits: it trusts the host completely (the host owns the VM anyway); there is one agent
// per VM and one Start per boot; an agent with public egress shares the guest's network
// namespace with the relay listener (which wants the token); forwarded UDP relays at most
// 64 clients per port at once; commands are killed with their process group only.
//
// The wire protocol is internal/sandbox/microvm/guestapi. Build it static:
// CGO_ENABLED=0 go build ./cmd/berth-guest.
package main
