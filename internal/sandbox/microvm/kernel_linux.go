package microvm

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed" // the kernel config fragment
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"berth.dev/berth/internal/atomicfile"
)

// kernelFragment is merged onto `make tinyconfig` to build the guest kernel.
//
//go:embed guest-kernel.config
var kernelFragment []byte

// KernelSource is the Debian package whose tarball BuildKernel builds from.
const KernelSource = "/usr/src/linux-source-6.1.tar.xz"

// AptPackages lists the Debian packages the microvm driver and its build functions need:
// QEMU itself, the kernel source and the toolchain to build the guest kernel, and
// e2fsprogs for the guest's ext4 disks.
func AptPackages() []string {
	return []string{
		"qemu-system-x86", "linux-source-6.1",
		"build-essential", "flex", "bison", "bc", "libelf-dev", "libssl-dev", "xz-utils",
		"e2fsprogs", "cpio",
	}
}

// KernelPath is where BuildKernel puts the guest kernel under dataDir.
func KernelPath(dataDir string) string { return filepath.Join(dataDir, "microvm", "vmlinux") }

// BuildKernel builds the minimal guest kernel (an uncompressed, PVH-bootable vmlinux) from
// KernelSource: tinyconfig plus the embedded fragment, checked option by option. It is
// idempotent: when KernelPath(dataDir) exists and was built from the same source and
// fragment, it does nothing. The build takes about 3 minutes on 2 cores and about 1.5 GB
// of scratch space under dataDir, removed afterwards. progress receives the build's output
// (nil discards it). It returns the kernel's path.
func BuildKernel(ctx context.Context, dataDir string, progress io.Writer) (string, error) {
	if progress == nil {
		progress = io.Discard
	}
	out := KernelPath(dataDir)
	st, err := os.Stat(KernelSource)
	if err != nil {
		return "", fmt.Errorf("guest kernel source (apt install linux-source-6.1): %w", err)
	}
	sum := sha256.New()
	fmt.Fprintf(sum, "berth-kernel-v1\n%s %d %d\n", KernelSource, st.Size(), st.ModTime().UnixNano())
	sum.Write(kernelFragment)
	want := hex.EncodeToString(sum.Sum(nil))
	stamp := out + ".hash"
	built := func() bool {
		got, err := os.ReadFile(stamp)
		return err == nil && strings.TrimSpace(string(got)) == want && fileExists(out)
	}
	if built() {
		return out, nil
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return "", fmt.Errorf("build guest kernel: %w", err)
	}
	// One build at a time per directory (several test processes may ask at once).
	lock, err := os.OpenFile(out+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return "", fmt.Errorf("build guest kernel: %w", err)
	}
	defer func() { _ = lock.Close() }()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return "", fmt.Errorf("build guest kernel: lock: %w", err)
	}
	if built() {
		return out, nil
	}
	work, err := os.MkdirTemp(filepath.Dir(out), ".kernel-build-")
	if err != nil {
		return "", fmt.Errorf("build guest kernel: %w", err)
	}
	defer func() { _ = os.RemoveAll(work) }()
	run := func(dir string, argv ...string) error {
		fmt.Fprintf(progress, "+ %s\n", strings.Join(argv, " "))
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Dir = dir
		cmd.Stdout, cmd.Stderr = progress, progress
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
		}
		return nil
	}
	if err := run(work, "tar", "-xJf", KernelSource, "--strip-components=1"); err != nil {
		return "", fmt.Errorf("build guest kernel: %w", err)
	}
	frag := filepath.Join(work, "berth-guest.config")
	if err := os.WriteFile(frag, kernelFragment, 0o644); err != nil {
		return "", fmt.Errorf("build guest kernel: %w", err)
	}
	jobs := "-j" + strconv.Itoa(runtime.NumCPU())
	for _, argv := range [][]string{
		{"make", "tinyconfig"},
		{"scripts/kconfig/merge_config.sh", "-m", ".config", frag},
		{"make", "olddefconfig"},
	} {
		if err := run(work, argv...); err != nil {
			return "", fmt.Errorf("build guest kernel: %w", err)
		}
	}
	if err := checkKernelConfig(filepath.Join(work, ".config"), kernelFragment); err != nil {
		return "", fmt.Errorf("build guest kernel: %w", err)
	}
	if err := run(work, "make", jobs, "vmlinux"); err != nil {
		return "", fmt.Errorf("build guest kernel: %w", err)
	}
	if err := os.Rename(filepath.Join(work, "vmlinux"), out); err != nil {
		return "", fmt.Errorf("build guest kernel: %w", err)
	}
	if err := atomicfile.WriteFile(stamp, []byte(want+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("build guest kernel: %w", err)
	}
	return out, nil
}

// checkKernelConfig fails unless every CONFIG_X=y of fragment is set in the final config,
// and every "# CONFIG_X is not set" unset: kconfig silently drops options whose
// dependencies are missing, and selects others.
func checkKernelConfig(config string, fragment []byte) error {
	got, err := os.ReadFile(config)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for line := range strings.Lines(string(got)) {
		have[strings.TrimSpace(line)] = true
	}
	var missing []string
	sc := bufio.NewScanner(bytes.NewReader(fragment))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if off, ok := strings.CutPrefix(line, "# "); ok && strings.HasSuffix(off, " is not set") {
			if name := strings.TrimSuffix(off, " is not set"); have[name+"=y"] {
				missing = append(missing, line)
			}
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !have[line] {
			missing = append(missing, line)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("kernel config lacks %s (unmet dependencies?)", strings.Join(missing, ", "))
	}
	return nil
}
