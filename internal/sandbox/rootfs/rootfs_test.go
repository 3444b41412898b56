package rootfs

import (
	"os"
	"path/filepath"
	"testing"
)

func TestEnsureBase_Idempotent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "base")
	if err := EnsureBase(dir); err != nil {
		t.Fatal(err)
	}
	passwd := filepath.Join(dir, "etc/passwd")
	st1, err := os.Stat(passwd)
	if err != nil {
		t.Fatal(err)
	}
	if err := EnsureBase(dir); err != nil {
		t.Fatal(err)
	}
	st2, _ := os.Stat(passwd)
	if !st1.ModTime().Equal(st2.ModTime()) {
		t.Error("EnsureBase rewrote an unchanged file")
	}
	// A damaged file is repaired.
	if err := os.WriteFile(passwd, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := EnsureBase(dir); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(passwd); string(b) != files["etc/passwd"] {
		t.Errorf("passwd not repaired: %q", b)
	}
	if l, err := os.Readlink(filepath.Join(dir, "bin")); err != nil || l != "usr/bin" {
		t.Errorf("bin -> %q, %v", l, err)
	}
	for _, b := range HostBinds() {
		if fi, err := os.Stat(filepath.Join(dir, b.Target)); err != nil || !fi.IsDir() {
			t.Errorf("mount point for %s missing: %v", b.Target, err)
		}
	}
	if fi, _ := os.Stat(filepath.Join(dir, "tmp")); fi.Mode()&os.ModeSticky == 0 {
		t.Errorf("tmp mode %v, want sticky", fi.Mode())
	}
}
