//go:build linux

package microvm

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestInitramfs_CpioListsInitAndConsole(t *testing.T) {
	if _, err := exec.LookPath("cpio"); err != nil {
		t.Skip("cpio not installed (apt install cpio)")
	}
	dir := t.TempDir()
	guest := filepath.Join(dir, "guest")
	if err := os.WriteFile(guest, []byte("#!/bin/sh\necho odd-length payload\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	d, err := New(Config{StateDir: filepath.Join(dir, "state"), CacheDir: filepath.Join(dir, "cache"), Guest: guest})
	if err != nil {
		t.Fatal(err)
	}
	p, err := d.initramfs()
	if err != nil {
		t.Fatal(err)
	}
	again, err := d.initramfs()
	if err != nil || again != p {
		t.Fatalf("second initramfs() = %q, %v; want the cached %q", again, err, p)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	cmd := exec.Command("cpio", "-itv", "--quiet")
	cmd.Stdin = f
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("cpio -it: %v", err)
	}
	var names []string
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		names = append(names, fields[len(fields)-1])
		if fields[len(fields)-1] == "dev/console" && !strings.HasPrefix(fields[0], "c") {
			t.Errorf("dev/console is not a character device: %s", line)
		}
	}
	if want := []string{"dev", "dev/console", "init"}; !slices.Equal(names, want) {
		t.Errorf("initramfs holds %q, want %q", names, want)
	}
}
