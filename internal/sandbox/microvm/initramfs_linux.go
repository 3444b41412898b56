package microvm

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"berth.dev/berth/internal/atomicfile"
	"berth.dev/berth/internal/vmm"
)

// initramfs returns the path of an uncompressed newc cpio holding /init (the guest init
// binary) and /dev/console, cached in CacheDir by the binary's content.
func (d *Driver) initramfs() (string, error) {
	bin, err := os.ReadFile(d.cfg.Guest)
	if err != nil {
		return "", fmt.Errorf("initramfs: %w", err)
	}
	sum := sha256.Sum256(bin)
	out := filepath.Join(d.cfg.CacheDir, "initramfs-"+hex.EncodeToString(sum[:8])+".cpio")
	if fileExists(out) {
		return out, nil
	}
	f, err := os.CreateTemp(d.cfg.CacheDir, ".initramfs-")
	if err != nil {
		return "", fmt.Errorf("initramfs: %w", err)
	}
	defer func() { _ = os.Remove(f.Name()) }()
	w := bufio.NewWriter(f)
	err = vmm.WriteInitramfs(w, []vmm.InitramfsFile{{Name: "init", Mode: 0o755, Data: bin}})
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		_ = f.Close()
		return "", fmt.Errorf("initramfs: %w", err)
	}
	if err := atomicfile.Commit(f, out); err != nil {
		return "", fmt.Errorf("initramfs: %w", err)
	}
	return out, nil
}
