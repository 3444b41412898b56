package microvm

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"berth.dev/berth/internal/atomicfile"
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
	cw := &cpioWriter{w: w}
	cw.entry("dev", 0o040755, 0, 0, nil)
	cw.entry("dev/console", 0o020600, 5, 1, nil)
	cw.entry("init", 0o100755, 0, 0, bin)
	cw.entry("TRAILER!!!", 0, 0, 0, nil)
	if cw.err == nil {
		cw.err = w.Flush()
	}
	if cw.err != nil {
		_ = f.Close()
		return "", fmt.Errorf("initramfs: %w", cw.err)
	}
	if err := atomicfile.Commit(f, out); err != nil {
		return "", fmt.Errorf("initramfs: %w", err)
	}
	return out, nil
}

// cpioWriter writes the "newc" cpio format the kernel unpacks.
type cpioWriter struct {
	w   io.Writer
	ino int
	err error
}

func (c *cpioWriter) entry(name string, mode uint32, rdevMajor, rdevMinor int, data []byte) {
	if c.err != nil {
		return
	}
	c.ino++
	nlink := 1
	if mode&0o040000 != 0 {
		nlink = 2
	}
	hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		c.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdevMajor, rdevMinor, len(name)+1, 0)
	c.write([]byte(hdr + name + "\x00"))
	c.pad(len(hdr) + len(name) + 1)
	c.write(data)
	c.pad(len(data))
}

func (c *cpioWriter) write(b []byte) {
	if c.err == nil {
		_, c.err = c.w.Write(b)
	}
}

func (c *cpioWriter) pad(n int) {
	if r := n % 4; r != 0 {
		c.write(make([]byte, 4-r))
	}
}
