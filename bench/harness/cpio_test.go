package harness

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/internal/vmm"
)

// TestWriteInitramfs_ReadableByCpio lists and extracts the archive with the system's cpio
// (GNU cpio reads newc), where it is installed.
func TestWriteInitramfs_ReadableByCpio(t *testing.T) {
	cpio, err := exec.LookPath("cpio")
	if err != nil {
		t.Skip("cpio not installed")
	}
	dir := t.TempDir()
	archive := filepath.Join(dir, "initramfs.cpio")
	files := []vmm.InitramfsFile{
		{Name: "bin", Mode: 0o755, Dir: true},
		{Name: "bin/agent", Mode: 0o755, Data: []byte("#!/bin/sh\necho hi\n")},
		{Name: "init", Mode: 0o700, Data: []byte("odd-length")},
	}
	if err := WriteInitramfs(archive, files); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := testContext(t, 30*time.Second)
	defer cancel()
	list := exec.CommandContext(ctx, cpio, "-it", "--quiet")
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	list.Stdin = f
	out, err := list.CombinedOutput()
	if err != nil {
		t.Fatalf("cpio -it: %v\n%s", err, out)
	}
	if got, want := strings.Fields(string(out)), []string{"dev", "dev/console", "bin", "bin/agent", "init"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("archive lists %v, want %v", got, want)
	}

	dest := filepath.Join(dir, "x")
	if err := os.Mkdir(dest, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	// Extract only the regular files: the device node needs mknod rights.
	extract := exec.CommandContext(ctx, cpio, "-id", "--quiet", "--no-absolute-filenames", "bin", "bin/agent", "init")
	extract.Dir, extract.Stdin = dest, f
	if out, err := extract.CombinedOutput(); err != nil {
		t.Fatalf("cpio -id: %v\n%s", err, out)
	}
	for _, e := range files[1:] {
		raw, err := os.ReadFile(filepath.Join(dest, e.Name))
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := os.Stat(filepath.Join(dest, e.Name))
		if string(raw) != string(e.Data) || fi.Mode().Perm() != os.FileMode(e.Mode) {
			t.Errorf("%s = %q mode %v, want %q mode %o", e.Name, raw, fi.Mode().Perm(), e.Data, e.Mode)
		}
	}
}
