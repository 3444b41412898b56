package microvm

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"berth.dev/berth/internal/atomicfile"
	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/sandbox/microvm/guestapi"
	"berth.dev/berth/internal/tailbuf"
	"berth.dev/berth/internal/vmm"
)

// kernelCmdline is the guest's kernel command line. no_timer_check and lpj skip timer
// calibration, which hangs or crawls under TCG; panic=-1 and reboot=t make a guest panic
// or a dying init end QEMU (-no-reboot).
const kernelCmdline = "console=ttyS0 quiet no_timer_check lpj=2000000 panic=-1 reboot=t"

// shape is what makes two VMs restorable from the same snapshot.
type shape struct {
	rootDisk, codeDisk string
	memMB, cpus        int
	accel              vmm.Accel
	initrd             string
	tscKHz             int64 // for TCG: the guest's TSC frequency (see clock_linux.go)
}

// cmdline is the guest kernel's command line for shape s.
func (s shape) cmdline() string {
	if s.accel == vmm.AccelTCG && s.tscKHz > 0 {
		return kernelCmdline + " tsc_early_khz=" + strconv.FormatInt(s.tscKHz, 10) + " tsc=reliable"
	}
	return kernelCmdline
}

// vmConfig is the VM of shape s, without the per-VM parts (Dir, Memory, Restore). With a
// network (a restore for a sandbox, when the driver has a provider) QEMU runs in it and
// its user-mode network is unrestricted; without (templates, or no provider) QEMU's
// network leads nowhere.
func (d *Driver) vmConfig(s shape, network sandbox.Network) vmm.Config {
	disks := []vmm.Disk{{Path: s.rootDisk, ReadOnly: true, Serial: guestapi.RootDiskSerial}}
	if s.codeDisk != "" {
		disks = append(disks, vmm.Disk{Path: s.codeDisk, ReadOnly: true, Serial: guestapi.CodeDiskSerial})
	}
	return vmm.Config{
		Kernel:   d.cfg.Kernel,
		Initrd:   s.initrd,
		Cmdline:  s.cmdline(),
		MemoryMB: s.memMB,
		CPUs:     s.cpus,
		Accel:    s.accel,
		Disks:    disks,
		Net: &vmm.UserNet{
			Forwards: []vmm.Forward{
				{HostAddr: "127.0.0.1", GuestPort: guestapi.RelayPort},
			},
			Unrestricted: network != nil,
		},
		NetNS:    network,
		Channels: []string{guestapi.ControlPort},
		RNG:      true,
	}
}

// template is a snapshot of a booted guest waiting for Start: its RAM file and device
// state.
type template struct {
	ram, state string
}

// templateKey names a shape's template by everything its snapshot depends on.
func (d *Driver) templateKey(s shape) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "berth-template-v1\n%+v\n", s)
	for _, p := range []string{d.cfg.Kernel, d.qemu} {
		st, err := os.Stat(p)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d %d\n", p, st.Size(), st.ModTime().UnixNano())
	}
	return hex.EncodeToString(h.Sum(nil))[:32], nil
}

// template returns the snapshot for shape s, cold-booting and snapshotting a template VM
// the first time.
func (d *Driver) template(ctx context.Context, s shape) (*template, error) {
	key, err := d.templateKey(s)
	if err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	d.mu.Lock()
	b, ok := d.templates[key]
	if !ok {
		b = &oneBuild[*template]{}
		d.templates[key] = b
	}
	d.mu.Unlock()
	return b.get(ctx, templateBootTimeout+time.Minute, func(ctx context.Context) (*template, error) {
		dir := filepath.Join(d.cfg.CacheDir, "templates", key)
		t := &template{ram: filepath.Join(dir, "ram"), state: filepath.Join(dir, "state")}
		if fileExists(t.state) {
			return t, nil
		}
		start := time.Now()
		if err := d.buildTemplate(ctx, s, dir); err != nil {
			return nil, err
		}
		d.log.InfoContext(ctx, "microvm template built", "key", key, "accel", string(s.accel), "took", time.Since(start))
		return t, nil
	})
}

// buildTemplate boots a VM of shape s with its RAM in a shared file, waits until the guest
// is ready, snapshots it and kills it; the result appears at dir atomically.
func (d *Driver) buildTemplate(ctx context.Context, s shape, dir string) error {
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o750); err != nil {
		return fmt.Errorf("template: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, ".build-")
	if err != nil {
		return fmt.Errorf("template: %w", err)
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	cfg := d.vmConfig(s, nil)
	cfg.Dir = tmp
	cfg.Memory = &vmm.MemoryFile{Path: filepath.Join(tmp, "ram"), Shared: true}
	console := tailbuf.New(16<<10, nil)
	cfg.Console = console
	ctx, cancel := context.WithTimeout(ctx, templateBootTimeout)
	defer cancel()
	m, err := d.vmm.Start(ctx, cfg)
	if err != nil {
		return fmt.Errorf("template: boot: %w", err)
	}
	defer func() { _ = m.Kill() }()
	if err := waitReady(ctx, m); err != nil {
		return fmt.Errorf("template: guest did not become ready: %w; console:\n%s", err, console)
	}
	if err := m.Snapshot(ctx, filepath.Join(tmp, "state")); err != nil {
		return fmt.Errorf("template: %w", err)
	}
	_ = m.Kill()
	for _, f := range []string{"ram", "state"} {
		if err := syncFile(filepath.Join(tmp, f)); err != nil {
			return fmt.Errorf("template: %w", err)
		}
	}
	if err := atomicfile.Rename(tmp, dir); err != nil && !fileExists(filepath.Join(dir, "state")) {
		return fmt.Errorf("template: %w", err)
	}
	return nil
}

// waitReady reads the control channel until the guest says it is ready.
func waitReady(ctx context.Context, m vmm.Machine) error {
	ctl := m.Channel(guestapi.ControlPort)
	stop := context.AfterFunc(ctx, func() { _ = ctl.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	r := bufio.NewReader(ctl)
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			select {
			case <-m.Done():
				return m.Err()
			case <-time.After(time.Second):
				return err
			}
		}
		var msg guestapi.Message
		if json.Unmarshal(line, &msg) == nil && msg.Type == guestapi.TypeReady {
			if r.Buffered() > 0 {
				return errors.New("unexpected data after ready")
			}
			return nil
		}
	}
}

func syncFile(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	return f.Sync()
}
