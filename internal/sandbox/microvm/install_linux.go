package microvm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"berth.dev/berth/internal/atomicfile"
	"berth.dev/berth/internal/sandbox"
)

// Packages are QEMU, the kernel source and its build tools, and e2fsprogs.
func (d *Driver) Packages() []string { return AptPackages() }

// Install builds the guest kernel (skipped when one with the same configuration exists)
// and puts the guest init next to it: a berth-guest binary beside the running berth (make
// build produces both).
func (d *Driver) Install(ctx context.Context, w io.Writer) error {
	dataDir := filepath.Dir(d.cfg.CacheDir)
	fmt.Fprintf(w, "microvm: guest kernel (about 3 minutes on 2 idle cores the first time)\n")
	kernel, err := BuildKernel(ctx, dataDir, w)
	if err != nil {
		return fmt.Errorf("guest kernel: %w", err)
	}
	fmt.Fprintf(w, "microvm: guest kernel ready at %s\n", kernel)
	dst := GuestPath(dataDir)
	src := d.cfg.Guest
	if src == dst || !fileExists(src) {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("guest init: %w", err)
		}
		src = filepath.Join(filepath.Dir(exe), "berth-guest")
	}
	if !fileExists(src) {
		if fileExists(dst) {
			fmt.Fprintf(w, "microvm: guest init ready at %s\n", dst)
			return nil
		}
		return errors.New("guest init: no berth-guest binary beside berth; build it with 'make build' (CGO_ENABLED=0 go build ./cmd/berth-guest)")
	}
	b, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("guest init: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return fmt.Errorf("guest init: %w", err)
	}
	if err := atomicfile.WriteFile(dst, b, 0o755); err != nil {
		return fmt.Errorf("guest init: %w", err)
	}
	d.cfg.Guest = dst
	fmt.Fprintf(w, "microvm: guest init installed at %s\n", dst)
	return nil
}

var _ sandbox.Installer = (*Driver)(nil)
