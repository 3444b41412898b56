package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// microvmKernel is the guest kernel `berth setup` builds for the test suite (scripts/test
// runs it with --data-dir /var/cache/berth-test); BERTH_TEST_KERNEL overrides it.
func microvmKernel() string {
	if k := os.Getenv("BERTH_TEST_KERNEL"); k != "" {
		return k
	}
	return "/var/cache/berth-test/microvm/vmlinux"
}

var (
	guestOnce sync.Once
	guestPath string
	guestErr  error
)

// linkMicroVM gives a microvm server's data dir what `berth setup` would put in
// <data>/microvm: the guest kernel and a static berth-guest built from this tree (once per
// test process). Templates and snapshots the driver makes stay in that data dir.
func linkMicroVM(t *testing.T, driver, data string) {
	t.Helper()
	if driver != "microvm" {
		return
	}
	guestOnce.Do(func() {
		dir, err := os.MkdirTemp("", "berth-e2e-guest-") //nolint:usetesting // shared by every test of the process, not one
		if err != nil {
			guestErr = err
			return
		}
		guestPath = filepath.Join(dir, "berth-guest")
		cmd := exec.Command("go", "build", "-trimpath", "-o", guestPath, "berth.dev/berth/cmd/berth-guest")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			guestErr = &buildError{err: err, out: string(out)}
		}
	})
	if guestErr != nil {
		t.Fatalf("build berth-guest: %v", guestErr)
	}
	dir := filepath.Join(data, "microvm")
	if err := os.MkdirAll(dir, 0o755); err != nil { //nolint:gosec // read by the VMM
		t.Fatal(err)
	}
	for name, target := range map[string]string{"vmlinux": microvmKernel(), "berth-guest": guestPath} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }
