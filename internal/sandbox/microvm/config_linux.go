package microvm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/vmm"
)

// Name is the driver's registry name.
const Name = "microvm"

// Defaults.
const (
	DefaultMemoryBytes = 256 << 20
	// DefaultPids bounds the processes and threads of a session.
	DefaultPids = 1024
	// DefaultDiskBytes is the size of the writable layer, at most half the VM's memory.
	DefaultDiskBytes = 512 << 20
	// DefaultSnapshotAfter is Config.SnapshotAfter's default.
	DefaultSnapshotAfter = 2
	// DefaultMaxSnapshots is Config.MaxSnapshots's default.
	DefaultMaxSnapshots = 8
	minMemoryMB         = 128
	// templateBootTimeout bounds a template's cold boot (TCG boots take 1–3 s alone, much
	// longer when the host's cores are busy).
	templateBootTimeout = 3 * time.Minute
	// restoreTimeout bounds a restore until the VM runs again (about 0.1 s, seconds when
	// the host's cores are busy).
	restoreTimeout = time.Minute
)

func init() {
	sandbox.Register(Name, func(o sandbox.Options) (sandbox.Driver, error) {
		dataDir := filepath.Dir(filepath.Clean(o.StateDir))
		return New(Config{
			StateDir:      o.StateDir,
			CacheDir:      filepath.Join(dataDir, "microvm"),
			Kernel:        KernelPath(dataDir),
			Guest:         defaultGuestPath(dataDir),
			AllowTCG:      o.AllowTCG,
			DefaultLimits: o.DefaultLimits,
			Network:       o.Network,
		})
	})
}

// GuestPath is where the driver registered as "microvm" looks for the guest init binary
// (a static build of cmd/berth-guest) under dataDir; berth setup should put it there.
func GuestPath(dataDir string) string { return filepath.Join(dataDir, "microvm", "berth-guest") }

// defaultGuestPath is GuestPath, or berth-guest next to the running executable when that
// one is missing.
func defaultGuestPath(dataDir string) string {
	p := GuestPath(dataDir)
	if _, err := os.Stat(p); err == nil {
		return p
	}
	if exe, err := os.Executable(); err == nil {
		if q := filepath.Join(filepath.Dir(exe), "berth-guest"); fileExists(q) {
			return q
		}
	}
	return p
}

// Config configures a Driver.
type Config struct {
	// StateDir holds one directory per running VM (sockets), removed by Stop.
	StateDir string
	// CacheDir holds what VMs share and what outlives them: disk images, the initramfs,
	// snapshot templates. Entries are content-keyed; removing the directory is safe when no
	// VM runs.
	CacheDir string
	// Kernel is the guest kernel (see BuildKernel).
	Kernel string
	// Guest is a static build of cmd/berth-guest, the guest's init.
	Guest string
	// QEMU is the qemu-system-x86_64 binary; "" looks it up in PATH.
	QEMU string
	// Accel forces an accelerator: "kvm", "tcg", or "" to use KVM when a boot test passes
	// and TCG otherwise, but only if AllowTCG.
	Accel vmm.Accel
	// AllowTCG permits QEMU's software CPU when KVM is not usable. It is slow (a
	// restore takes ~0.2 s, a cold boot 1–3 s, guest code runs 10–100× slower) and meant
	// for tests and hosts without virtualisation.
	AllowTCG bool
	// DefaultLimits apply where a Spec leaves Limits zero; memory defaults to
	// DefaultMemoryBytes, pids to DefaultPids, the writable layer to DefaultDiskBytes.
	DefaultLimits sandbox.Limits
	// SnapshotAfter is how many times a spec (everything but its ID and output writers)
	// must have been started before the driver snapshots a VM of it with its agent
	// running and listening, and restores every later sandbox of it from that agent
	// snapshot instead of starting the agent again. 0 means DefaultSnapshotAfter; a
	// negative value never snapshots agents.
	SnapshotAfter int
	// MaxSnapshots bounds how many agent snapshots the cache keeps; the least recently
	// used go first. Each is a sparse file the size of the VM's memory holding what the
	// guest touched: tens of MB for a 256 MiB VM, about 300 MB for an 8 GiB one (the guest
	// kernel's page array grows with memory). 0 means DefaultMaxSnapshots.
	MaxSnapshots int
	// Network prepares each sandbox's network namespace for its egress policy: QEMU runs
	// in it, with an unrestricted user-mode network, so the guest reaches what the
	// namespace reaches (see the package doc). Nil: QEMU runs in Berth's namespace with a
	// closed user-mode network, egress is NetworkNone only, and sandboxes cannot be
	// listened in (sandbox.Listener).
	Network sandbox.NetworkProvider
	// Logger receives the driver's diagnostics; nil discards them.
	Logger *slog.Logger
}

// Driver starts microVM sandboxes. It is safe for concurrent use.
type Driver struct {
	cfg  Config
	log  *slog.Logger
	vmm  vmm.VMM
	qemu string // resolved binary, "" if missing

	accelOnce sync.Once
	accel     vmm.Accel
	accelErr  error

	tscOnce sync.Once
	tscKHz  int64 // the host's TSC frequency, for TCG guests

	base oneBuild[string] // BuildBaseRoot's tree

	mu        sync.Mutex
	templates map[string]*oneBuild[*template]
	disks     map[string]*oneBuild[string] // by tree
	snapshots map[string]*snapshotEntry
	evictMu   sync.Mutex // serialises evictSnapshots
}

var (
	_ sandbox.Driver    = (*Driver)(nil)
	_ sandbox.Reclaimer = (*Driver)(nil)
)

// New returns a driver. It checks nothing about the host: Available does.
func New(cfg Config) (*Driver, error) {
	if cfg.StateDir == "" || cfg.CacheDir == "" {
		return nil, fmt.Errorf("microvm driver: %w: StateDir and CacheDir must be set", errdefs.ErrInvalidArgument)
	}
	var err error
	for _, p := range []*string{&cfg.StateDir, &cfg.CacheDir} {
		if *p, err = filepath.Abs(*p); err != nil {
			return nil, fmt.Errorf("microvm driver: %w", err)
		}
		if err := os.MkdirAll(*p, 0o750); err != nil {
			return nil, fmt.Errorf("microvm driver: %w", err)
		}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	qemu := cfg.QEMU
	if qemu == "" {
		qemu = "qemu-system-x86_64"
	}
	resolved, _ := exec.LookPath(qemu)
	return &Driver{
		cfg: cfg, log: log, qemu: resolved,
		vmm:       &vmm.QEMU{Binary: resolved},
		templates: map[string]*oneBuild[*template]{},
		disks:     map[string]*oneBuild[string]{},
		snapshots: map[string]*snapshotEntry{},
	}, nil
}

// Name implements sandbox.Driver.
func (d *Driver) Name() string { return Name }

// Capabilities implements sandbox.Driver: the egress modes are the network provider's
// (NetworkNone alone without one).
func (d *Driver) Capabilities() sandbox.Capabilities {
	return sandbox.Capabilities{
		Isolation: "microvm",
		Exec:      true,
		Reclaim:   true,
		Egress:    sandbox.EgressModes(d.cfg.Network),
	}
}

// Available implements sandbox.Driver: it needs QEMU, the guest kernel, the guest init,
// mkfs.ext4, and KVM that boots the guest (a cached boot test) or AllowTCG.
func (d *Driver) Available() error {
	var missing []error
	if d.qemu == "" {
		missing = append(missing, errors.New("qemu-system-x86_64 not found (apt install qemu-system-x86)"))
	}
	if !fileExists(d.cfg.Kernel) {
		missing = append(missing, fmt.Errorf("guest kernel %s missing (berth setup builds it; see microvm.BuildKernel)", d.cfg.Kernel))
	}
	if !fileExists(d.cfg.Guest) {
		missing = append(missing, fmt.Errorf("guest init %s missing (a static build of cmd/berth-guest)", d.cfg.Guest))
	}
	if _, err := exec.LookPath("mkfs.ext4"); err != nil {
		missing = append(missing, errors.New("mkfs.ext4 not found (apt install e2fsprogs)"))
	}
	if len(missing) > 0 {
		return fmt.Errorf("microvm driver: %w", errors.Join(missing...))
	}
	if _, err := d.accelerator(); err != nil {
		return fmt.Errorf("microvm driver: %w", err)
	}
	return nil
}

// accelerator picks KVM or TCG once per driver.
func (d *Driver) accelerator() (vmm.Accel, error) {
	d.accelOnce.Do(func() {
		switch d.cfg.Accel {
		case vmm.AccelKVM, vmm.AccelTCG:
			d.accel = d.cfg.Accel
			if d.accel == vmm.AccelTCG && !d.cfg.AllowTCG {
				d.accelErr = errors.New("accelerator tcg requested but TCG is not allowed (sandbox.allowTCG)")
			}
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), kvmProbeTimeout+time.Minute)
		defer cancel()
		kvmErr := d.probeKVM(ctx)
		if kvmErr == nil {
			d.accel = vmm.AccelKVM
			return
		}
		if d.cfg.AllowTCG {
			d.log.Warn("KVM is not usable; microVMs run under TCG (slow)", "reason", kvmErr)
			d.accel = vmm.AccelTCG
			return
		}
		d.accelErr = fmt.Errorf("KVM is not usable (%w) and TCG is not allowed (sandbox.allowTCG)", kvmErr)
	})
	return d.accel, d.accelErr
}

func fileExists(p string) bool {
	st, err := os.Stat(p) //nolint:gosec // paths come from the driver's configuration
	return err == nil && st.Mode().IsRegular()
}
