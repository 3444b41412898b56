// Package vmm starts and controls virtual machines through an external virtual machine
// monitor process, behind a small interface that QEMU implements today and that
// Firecracker or Cloud Hypervisor can implement later.
//
// A Machine is one VMM process running one VM. The caller describes it with a Config: a
// kernel and initramfs booted directly (no firmware), read-only or writable raw disks, a
// user-mode network reachable only through loopback port forwards (closed, or as open as
// the network namespace the VMM runs in), named host↔guest byte channels, and optionally
// guest RAM backed by a file so the VM can be snapshotted (Machine.Snapshot) and later
// restored into any number of clones (Config.Restore), which map that file copy-on-write
// and so share its pages.
//
// QEMU is controlled through QMP, with the package's own small client (JSON lines over a
// unix socket). Every socket between the VMM and the host is one the host listens on and the
// VMM connects to at start, so nothing is polled and nothing written before the host is
// ready is lost.
//
// Limits: x86-64 Linux hosts only; QEMU's user-mode network (slirp) is slow and filters
// nothing itself: it is either closed (restrict=on) or as open as the network namespace
// the VMM runs in (Config.NetNS), whose own rules are the egress policy; a snapshot is
// only valid for the same VMM binary, kernel, initramfs, disks and device set.
package vmm

import (
	"context"
	"errors"
	"io"
	"net"
)

// Accel is a VM's CPU accelerator.
type Accel string

// Accelerators.
const (
	AccelKVM Accel = "kvm" // hardware virtualisation through /dev/kvm
	AccelTCG Accel = "tcg" // QEMU's software CPU: no KVM needed, 10–100× slower
)

// Config describes one VM.
type Config struct {
	// Dir is a directory for the VM's sockets; it must exist, and may be deep (sockets are
	// reached through a descriptor of it, so the 107-byte limit of unix socket paths does
	// not apply). The VMM process gets it in its environment as DirEnv. The caller
	// removes it.
	Dir string
	// Kernel is an uncompressed vmlinux (PVH boot), Initrd an uncompressed newc cpio.
	Kernel, Initrd string
	// Cmdline is the kernel command line.
	Cmdline string
	// MemoryMB and CPUs size the VM.
	MemoryMB, CPUs int
	// Accel chooses the CPU accelerator.
	Accel Accel
	// Disks are virtio block devices; the guest finds each by its Serial
	// (/sys/block/vdX/serial).
	Disks []Disk
	// Net, if not nil, adds one virtio network card on a user-mode network.
	Net *UserNet
	// NetNS, if not nil, is the network namespace the VMM process runs in (Do runs fn on a
	// thread inside it, and processes fn forks belong to it, as sandbox.Network's Do). The
	// user-mode network's sockets, its port forwards' listeners included, are then that
	// namespace's, and the host end of every Forward is reached from inside it. Nil: the
	// caller's namespace.
	NetNS interface{ Do(fn func() error) error }
	// Channels are named host↔guest byte streams (virtio-serial ports named Name in the
	// guest); Machine.Channel returns the host end.
	Channels []string
	// RNG adds a virtio entropy device fed from the host's /dev/urandom.
	RNG bool
	// Memory, if not nil, backs guest RAM with a file.
	Memory *MemoryFile
	// Restore, if set, starts the VM from a snapshot written by Machine.Snapshot instead of
	// booting; the rest of the Config must describe the same VM (only socket paths, port
	// forwards, NetNS, Net.Unrestricted and Memory.Shared may differ). Start returns when the VM runs again.
	Restore string
	// Console receives the guest's serial console; nil discards it.
	Console io.Writer
}

// Disk is a raw disk image.
type Disk struct {
	Path     string
	ReadOnly bool
	Serial   string // up to 20 bytes
}

// UserNet is a user-mode network (QEMU's slirp). The only way in is Forwards. By default it
// has no route out either (restrict=on). With Unrestricted, every connection and datagram
// the guest sends becomes an ordinary socket of the VMM process, made in Config.NetNS, and
// the gateway's address (10.0.2.2) stands for that namespace's own 127.0.0.1: what the
// guest reaches is what the namespace reaches. The backend's options are not part of a
// snapshot, so a restore may differ from the VM it restores in them.
type UserNet struct {
	Forwards     []Forward
	Unrestricted bool
}

// Forward forwards TCP connections to HostAddr:HostPort on the host to GuestPort on the
// guest's address. HostPort 0 picks a free port; Machine.HostPort reports it.
type Forward struct {
	HostAddr  string // e.g. 127.0.0.1
	HostPort  int
	GuestPort int
}

// MemoryFile backs guest RAM with a file. Shared makes guest writes land in the file (a
// template whose RAM is snapshotted in place, or a restore into a copy of a template's RAM
// file that is to be snapshotted in turn); otherwise the file is mapped copy-on-write
// (clones of that template).
type MemoryFile struct {
	Path   string
	Shared bool
}

// VMM starts machines.
type VMM interface {
	// Start starts a VM and returns once it runs (booting, or resumed from Config.Restore)
	// and every channel is connected. On error nothing is left running.
	Start(ctx context.Context, cfg Config) (Machine, error)
}

// Machine is one running VMM process.
type Machine interface {
	// PID is the VMM process's host pid.
	PID() int
	// Channel returns the host end of the named channel, or nil if there is none.
	Channel(name string) net.Conn
	// HostPort returns the host port forwarded to guestPort, or 0.
	HostPort(guestPort int) int
	// Done is closed when the VMM process has exited; Err then says how.
	Done() <-chan struct{}
	Err() error
	// Snapshot pauses the VM for good and writes its device state to path. RAM is not
	// copied when it lives in a shared MemoryFile: the file is the snapshot's memory, and
	// must not change until the VMM is killed.
	Snapshot(ctx context.Context, path string) error
	// Kill kills the VMM process and waits for it to exit; it is idempotent.
	Kill() error
}

// DirEnv is the environment variable that holds Config.Dir in the VMM process, by which
// a VMM left behind by a crashed host process can be told from an unrelated process that
// took its pid (/proc/<pid>/environ).
const DirEnv = "BERTH_VM_DIR"

// ErrExited is returned when the VMM process exited during an operation.
var ErrExited = errors.New("vmm process exited")
