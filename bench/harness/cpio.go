package harness

import (
	"bufio"
	"fmt"
	"os"

	"berth.dev/berth/internal/vmm"
)

// WriteInitramfs writes files to path as an uncompressed "newc" cpio archive, the format
// the Linux kernel unpacks as its initramfs, with a /dev/console node first
// (vmm.WriteInitramfs).
func WriteInitramfs(path string, files []vmm.InitramfsFile) error {
	f, err := os.Create(path) //nolint:gosec // the harness's own scratch file
	if err != nil {
		return fmt.Errorf("write initramfs: %w", err)
	}
	w := bufio.NewWriter(f)
	err = vmm.WriteInitramfs(w, files)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write initramfs %s: %w", path, err)
	}
	return nil
}
