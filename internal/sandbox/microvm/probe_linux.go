package microvm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"berth.dev/berth/internal/atomicfile"
	"berth.dev/berth/internal/tailbuf"
	"berth.dev/berth/internal/vmm"
)

// kvmProbeTimeout bounds the KVM boot test: a guest that boots under real KVM says ready
// within a second or two.
const kvmProbeTimeout = 20 * time.Second

// probeResult is the cached outcome of a KVM boot test.
type probeResult struct {
	OK     bool   `json:"ok"`
	Reason string `json:"reason,omitempty"`
}

// probeKVM boots the guest under KVM once and reports whether it came up. /dev/kvm alone
// proves nothing: on kvm_pvm hosts it exists but boots no stock kernel. The result is
// cached next to the kernel, keyed by the kernel, the guest init's content, QEMU and the
// host kernel.
func (d *Driver) probeKVM(ctx context.Context) error {
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("open /dev/kvm: %w", err)
	}
	_ = f.Close()
	var uts unix.Utsname
	_ = unix.Uname(&uts)
	h := sha256.New()
	fmt.Fprintf(h, "berth-kvm-probe-v1\n%s\n", unix.ByteSliceToString(uts.Release[:]))
	for _, p := range []string{d.cfg.Kernel, d.qemu} {
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %d %d\n", p, st.Size(), st.ModTime().UnixNano())
	}
	guest, err := os.ReadFile(d.cfg.Guest) // by content: test builds land in new places
	if err != nil {
		return err
	}
	h.Write(guest)
	cache := filepath.Join(filepath.Dir(d.cfg.Kernel), "kvm-probe-"+hex.EncodeToString(h.Sum(nil))[:16]+".json")
	var res probeResult
	if b, err := os.ReadFile(cache); err == nil && json.Unmarshal(b, &res) == nil {
		if res.OK {
			return nil
		}
		return errors.New(res.Reason)
	}
	err = d.bootTest(ctx)
	res = probeResult{OK: err == nil}
	if err != nil {
		res.Reason = "KVM boot test failed: " + err.Error()
	}
	if b, merr := json.Marshal(res); merr == nil {
		if werr := atomicfile.WriteFile(cache, b, 0o644); werr != nil {
			d.log.WarnContext(ctx, "cannot cache the KVM boot test", "err", werr)
		}
	}
	if err != nil {
		return errors.New(res.Reason)
	}
	return nil
}

// bootTest boots the guest under KVM on an empty root disk and waits for it to be ready.
func (d *Driver) bootTest(ctx context.Context) error {
	initrd, err := d.initramfs()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(d.cfg.CacheDir, ".kvm-probe-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	if err := os.Mkdir(filepath.Join(tmp, "root"), 0o755); err != nil {
		return err
	}
	root := filepath.Join(tmp, "root.ext4")
	if err := BuildDiskImage(ctx, filepath.Join(tmp, "root"), root); err != nil {
		return err
	}
	cfg := d.vmConfig(shape{rootDisk: root, memMB: minMemoryMB, cpus: 1, accel: vmm.AccelKVM, initrd: initrd}, nil)
	cfg.Dir = tmp
	console := tailbuf.New(4<<10, nil)
	cfg.Console = console
	ctx, cancel := context.WithTimeout(ctx, kvmProbeTimeout)
	defer cancel()
	m, err := d.vmm.Start(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() { _ = m.Kill() }()
	if err := waitReady(ctx, m); err != nil {
		return fmt.Errorf("%w; console: %s", err, console)
	}
	return nil
}
