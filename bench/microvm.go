package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"berth.dev/berth/bench/harness"
	berthconfig "berth.dev/berth/internal/config"
)

// guestKernelEnv names a guest kernel (an uncompressed, PVH-bootable vmlinux as
// `berth setup --driver microvm` builds it) for the microvm driver's server and the
// plain-QEMU baseline, overriding the default location.
const guestKernelEnv = "BERTH_BENCH_KERNEL"

// microvmMemoryBytes and microvmCPUs size the microvm driver's VMs in the benchmarks: the
// driver's default memory and one vCPU, as ISOLATION.md §4 measured (the server's default
// limits, 8 GiB and 2 CPUs, would size every VM at that).
const (
	microvmMemoryBytes = 256 << 20
	microvmCPUs        = 1
)

// guestKernelRel is where the microvm driver looks for its kernel inside a data directory
// (microvm.KernelPath of the data directory: <data>/microvm/vmlinux).
var guestKernelRel = filepath.Join("microvm", "vmlinux")

// findGuestKernel returns the guest kernel to use: $BERTH_BENCH_KERNEL, else the one
// `berth setup --driver microvm` built under the default data directory. Without one it
// returns "" and why.
func findGuestKernel() (string, string) {
	if p := os.Getenv(guestKernelEnv); p != "" {
		abs, err := filepath.Abs(p)
		if err == nil {
			if fi, serr := os.Stat(abs); serr == nil && fi.Mode().IsRegular() { //nolint:gosec // a path the user named for this purpose
				return abs, ""
			}
		}
		return "", fmt.Sprintf("%s=%s is not a readable file", guestKernelEnv, p)
	}
	p := filepath.Join(berthconfig.DefaultDataDir(), guestKernelRel)
	if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
		return p, ""
	}
	return "", fmt.Sprintf("needs berth setup --driver microvm (no guest kernel at %s; or set %s)", p, guestKernelEnv)
}

// microvmOptions fills in what the microvm driver's server needs beyond the others: the
// guest kernel and init, TCG allowed (this machine class has no usable KVM), a longer wait
// for the server (it boot-tests KVM first, up to 20 s) and for the first session of each VM
// shape (a template's cold boot under TCG), and small VMs (microvmMemoryBytes,
// microvmCPUs). The driver's cache directory (<data>/microvm: kernel, init, disk images,
// snapshot templates, all content-keyed) is one directory of the run that every microvm
// server links to, so the pool server reuses what the first one built. It returns why the
// driver cannot be measured instead when the kernel is missing.
func (s *suite) microvmOptions(ctx context.Context, opts *harness.Options) string {
	kernel, why := findGuestKernel()
	if kernel == "" {
		return why
	}
	guest, err := s.bins.BuildExtra(ctx, "berth.dev/berth/cmd/berth-guest", "berth-guest")
	if err != nil {
		return "cannot build the guest init: " + err.Error()
	}
	cache := filepath.Join(s.scratch, "microvm-cache")
	if _, err := os.Stat(cache); err != nil {
		if err := os.MkdirAll(cache, 0o750); err != nil {
			return err.Error()
		}
		for name, target := range map[string]string{filepath.Base(guestKernelRel): kernel, "berth-guest": guest} {
			if err := os.Symlink(target, filepath.Join(cache, name)); err != nil {
				return err.Error()
			}
		}
	}
	opts.Links = map[string]string{filepath.Dir(guestKernelRel): cache}
	opts.StartTimeout = 3 * time.Minute
	opts.ExtraArgs = append(opts.ExtraArgs, "--allow-tcg", "true", "--init-timeout", "5m",
		"--sandbox-memory-bytes", strconv.Itoa(microvmMemoryBytes), "--sandbox-cpus", strconv.Itoa(microvmCPUs))
	return ""
}
