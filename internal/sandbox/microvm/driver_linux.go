package microvm

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/tailbuf"
	"berth.dev/berth/internal/vmm"
)

// Start implements sandbox.Driver. It restores the spec's VM from the fastest snapshot
// there is: the spec's agent snapshot (its agent already listening) when the spec was
// started often enough (Config.SnapshotAfter) to have one built, or else the template of
// the spec's disks and size, in which it then starts the agent. It builds what is missing
// on first use (disk images, the template, the agent snapshot) and falls back to the
// template when an agent snapshot cannot be built or restored. With a network provider,
// the VM runs in the network the provider prepared for the spec's egress policy, whose
// environment (Network.Env) the agent gets. It returns once the agent process runs.
func (d *Driver) Start(ctx context.Context, spec sandbox.Spec) (sandbox.Sandbox, error) {
	if spec.ID == "" || strings.ContainsAny(spec.ID, "/\x00") || spec.ID == "." || spec.ID == ".." {
		return nil, fmt.Errorf("microvm: %w: bad sandbox id %q", errdefs.ErrInvalidArgument, spec.ID)
	}
	if len(spec.Command) == 0 {
		return nil, fmt.Errorf("microvm: %w: empty command", errdefs.ErrInvalidArgument)
	}
	if m := spec.Network.Mode; m != "" && !slices.Contains(d.Capabilities().Egress, m) {
		return nil, fmt.Errorf("microvm: %w: network mode %s (only %v)", errdefs.ErrInvalidArgument, m, d.Capabilities().Egress)
	}
	accel, err := d.accelerator()
	if err != nil {
		return nil, fmt.Errorf("microvm: %w", err)
	}
	sh, err := d.shapeOf(ctx, spec, accel)
	if err != nil {
		return nil, fmt.Errorf("microvm: %w", err)
	}
	tmpl, err := d.template(ctx, sh)
	if err != nil {
		return nil, fmt.Errorf("microvm: %w", err)
	}
	dir := filepath.Join(d.cfg.StateDir, spec.ID)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, fmt.Errorf("microvm: sandbox directory: %w", err)
	}
	t0 := time.Now()
	network, err := d.prepareNetwork(ctx, spec.ID, spec.Network)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("microvm: %w", err)
	}
	if network != nil {
		d.log.DebugContext(ctx, "microvm sandbox network prepared", "id", spec.ID, "mode", string(spec.Network.Mode), "took", time.Since(t0))
		// Before the agent snapshot's key is taken: the agent snapshot holds the environment.
		spec.Env = append(slices.Clone(spec.Env), network.Env()...)
	}
	s, err := d.startIn(ctx, spec, sh, tmpl, dir, network)
	if err != nil {
		closeNetwork(network)
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("microvm: %w", err)
	}
	s.ownsNetwork = true
	return s, nil
}

// startIn starts spec's VM in dir and network: from its agent snapshot if there is one
// (built when due), else, or if that fails, from tmpl.
func (d *Driver) startIn(ctx context.Context, spec sandbox.Spec, sh shape, tmpl *template, dir string, network sandbox.Network) (*vmSandbox, error) {
	if snap := d.agentSnapshotFor(ctx, spec, sh, tmpl); snap != nil {
		s, err := d.restoreAgent(ctx, spec, sh, snap, dir, network)
		if err == nil || ctx.Err() != nil {
			return s, err
		}
		d.log.WarnContext(ctx, "cannot restore the agent snapshot; starting the agent in a template instead", "id", spec.ID, "err", err)
		d.forgetAgentSnapshot(snap)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("sandbox directory: %w", err)
		}
	}
	return d.restore(ctx, spec, sh, tmpl, dir, network)
}

// shapeOf prepares the disks of spec and sizes its VM.
func (d *Driver) shapeOf(ctx context.Context, spec sandbox.Spec, accel vmm.Accel) (shape, error) {
	initrd, err := d.initramfs()
	if err != nil {
		return shape{}, err
	}
	sh := shape{accel: accel, initrd: initrd}
	if accel == vmm.AccelTCG {
		sh.tscKHz = d.hostTSCKHz()
	}
	tree := spec.RootFS
	if tree == "" {
		if tree, err = d.baseRoot(ctx); err != nil {
			return shape{}, err
		}
	}
	if sh.rootDisk, err = d.diskImage(ctx, tree); err != nil {
		return shape{}, err
	}
	if spec.CodeDir != "" {
		if sh.codeDisk, err = d.diskImage(ctx, spec.CodeDir); err != nil {
			return shape{}, err
		}
	}
	lim := spec.Limits
	mem := lim.MemoryBytes
	if mem == 0 {
		mem = d.cfg.DefaultLimits.MemoryBytes
	}
	if mem == 0 {
		mem = DefaultMemoryBytes
	}
	sh.memMB = max(int((mem+(1<<20)-1)>>20), minMemoryMB)
	cpus := lim.CPUs
	if cpus == 0 {
		cpus = d.cfg.DefaultLimits.CPUs
	}
	sh.cpus = min(max(int(math.Ceil(cpus)), 1), runtime.NumCPU())
	return sh, nil
}

// guestLimits are the limits berth-guest enforces inside a VM of shape sh: the spec's,
// else the driver's defaults, else DefaultPids and a writable layer of DefaultDiskBytes
// but at most half the VM's memory (the layer lives in guest RAM).
func (d *Driver) guestLimits(spec sandbox.Spec, sh shape) (pids, disk int64) {
	pids = cmpOr(spec.Limits.Pids, d.cfg.DefaultLimits.Pids, DefaultPids)
	disk = cmpOr(spec.Limits.DiskBytes, d.cfg.DefaultLimits.DiskBytes)
	if disk == 0 {
		disk = min(DefaultDiskBytes, int64(sh.memMB)<<20/2)
	}
	return pids, disk
}

// cmpOr returns the first of vs that is positive, or 0.
func cmpOr(vs ...int64) int64 {
	for _, v := range vs {
		if v > 0 {
			return v
		}
	}
	return 0
}

// restore starts a clone of tmpl for spec in dir and network, and starts its agent.
func (d *Driver) restore(ctx context.Context, spec sandbox.Spec, sh shape, tmpl *template, dir string, network sandbox.Network) (*vmSandbox, error) {
	return d.clone(ctx, spec, sh, dir, network, clonedFrom{ram: tmpl.ram, state: tmpl.state, what: "restore", then: "agent_start"},
		func(s *vmSandbox) error { return s.startAgent(ctx, spec) })
}

// clonedFrom is the saved VM a clone starts from: its RAM file and device state, plus the
// agent output it had printed (agent snapshots) and names for errors and the debug log.
type clonedFrom struct {
	ram, state string
	output     []outputChunk
	what, then string
}

// clone starts a VM for spec in dir and network (which stays the caller's) from a saved
// VM and runs finish on it (start the agent, or resume the one the snapshot holds); if
// finish fails the VM is stopped.
func (d *Driver) clone(ctx context.Context, spec sandbox.Spec, sh shape, dir string, network sandbox.Network, from clonedFrom, finish func(*vmSandbox) error) (*vmSandbox, error) {
	cfg := d.vmConfig(sh, network)
	cfg.Dir = dir
	cfg.Memory = &vmm.MemoryFile{Path: from.ram}
	cfg.Restore = from.state
	console := tailbuf.New(8<<10, nil)
	cfg.Console = console
	t0 := time.Now()
	m, err := d.startVM(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", from.what, err)
	}
	t1 := time.Now()
	s := newSandbox(d, spec, sh, dir, m, network, console, from.output)
	if err := finish(s); err != nil {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		_ = s.Stop(stopCtx)
		return nil, err
	}
	d.log.DebugContext(ctx, "microvm sandbox started", "id", spec.ID, "pid", m.PID(),
		"from", from.what, "restore", t1.Sub(t0), from.then, time.Since(t1))
	return s, nil
}

// startVM starts a restore, bounded by restoreTimeout.
func (d *Driver) startVM(ctx context.Context, cfg vmm.Config) (vmm.Machine, error) {
	ctx, cancel := context.WithTimeout(ctx, restoreTimeout)
	defer cancel()
	return d.vmm.Start(ctx, cfg)
}
