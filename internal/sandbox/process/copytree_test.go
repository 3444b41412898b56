//go:build linux

package process

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestCopyTree(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(src, "lib/pkg"), 0o755))
	must(os.WriteFile(filepath.Join(src, "agent"), []byte("#!/bin/sh\n"), 0o755))
	must(os.WriteFile(filepath.Join(src, "lib/pkg/data.txt"), []byte("data"), 0o444))
	must(os.Symlink("lib/pkg/data.txt", filepath.Join(src, "link")))
	must(os.Chmod(filepath.Join(src, "lib"), 0o555)) // read-only directory: the copy is writable

	must(copyTree(src, dst))

	for _, tc := range []struct {
		path string
		mode os.FileMode
	}{
		{"agent", 0o755},
		{"lib/pkg/data.txt", 0o444},
		{"lib", os.ModeDir | 0o755},
		{"link", os.ModeSymlink | 0o777},
	} {
		fi, err := os.Lstat(filepath.Join(dst, tc.path))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode() &^ (os.ModeSetgid | os.ModeSticky); got != tc.mode {
			t.Errorf("%s: mode %v, want %v", tc.path, got, tc.mode)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dst, "link")); err != nil || string(b) != "data" {
		t.Errorf("through the copied link: %q, %v", b, err)
	}
	must(os.WriteFile(filepath.Join(dst, "lib", "new"), nil, 0o644))

	must(syscall.Mkfifo(filepath.Join(src, "fifo"), 0o644))
	if err := copyTree(src, t.TempDir()); err == nil {
		t.Error("copyTree copied a FIFO")
	}
}
