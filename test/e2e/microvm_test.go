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
	microvmOnce  sync.Once
	microvmCache string // <data>/microvm of every microvm server of this test process
	microvmErr   error
)

// linkMicroVM gives a microvm server's data dir what `berth setup` would put in
// <data>/microvm: the guest kernel and a static berth-guest built from this tree (once per
// test process). <data>/microvm is a link to one directory shared by every server of the
// process, as a host's servers would share `berth setup`'s: the driver's disk images,
// templates and snapshots are content-keyed and written atomically, so a test reuses the
// template an earlier test booted instead of cold-booting its own under TCG (seconds to
// minutes each). TestMain removes the directory.
func linkMicroVM(t *testing.T, driver, data string) {
	t.Helper()
	if driver != "microvm" {
		return
	}
	microvmOnce.Do(func() { microvmCache, microvmErr = newMicroVMCache() })
	if microvmErr != nil {
		t.Fatalf("prepare the microvm cache: %v", microvmErr)
	}
	if err := os.Symlink(microvmCache, filepath.Join(data, "microvm")); err != nil {
		t.Fatal(err)
	}
}

// newMicroVMCache builds berth-guest into a fresh directory and links the guest kernel
// beside it.
func newMicroVMCache() (string, error) {
	dir, err := os.MkdirTemp("", "berth-e2e-microvm-") //nolint:usetesting // shared by every test of the process, not one
	if err != nil {
		return "", err
	}
	if err := os.Chmod(dir, 0o755); err != nil { //nolint:gosec // read by the VMM
		return "", err
	}
	cmd := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(dir, "berth-guest"), "berth.dev/berth/cmd/berth-guest")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return dir, &buildError{err: err, out: string(out)}
	}
	return dir, os.Symlink(microvmKernel(), filepath.Join(dir, "vmlinux"))
}

// TestMain removes the shared microvm directory once every test is done.
func TestMain(m *testing.M) {
	code := m.Run()
	if microvmCache != "" {
		_ = os.RemoveAll(microvmCache)
	}
	os.Exit(code)
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }
