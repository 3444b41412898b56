package vmm

import (
	"fmt"
	"io"
)

// InitramfsFile is one entry of an initramfs: a regular file (Data) or, with Dir, a
// directory.
type InitramfsFile struct {
	Name string // path inside the archive, without a leading "/"
	Mode uint32 // permission bits
	Dir  bool
	Data []byte
}

// WriteInitramfs writes files to w as an uncompressed "newc" cpio archive, the format the
// kernel unpacks as its initramfs (Config.Initrd). A /dev/console node is added first, so
// the kernel can give init a console. The error is the first one w returned.
func WriteInitramfs(w io.Writer, files []InitramfsFile) error {
	cw := &cpioWriter{w: w}
	cw.entry("dev", 0o040755, 0, 0, nil)
	cw.entry("dev/console", 0o020600, 5, 1, nil)
	for _, e := range files {
		mode := 0o100000 | e.Mode&0o7777
		if e.Dir {
			mode = 0o040000 | e.Mode&0o7777
		}
		cw.entry(e.Name, mode, 0, 0, e.Data)
	}
	cw.entry("TRAILER!!!", 0, 0, 0, nil)
	return cw.err
}

// cpioWriter writes newc entries: a 110-byte ASCII header, the name, the data, each padded
// to 4 bytes.
type cpioWriter struct {
	w   io.Writer
	ino int
	err error
}

func (c *cpioWriter) entry(name string, mode uint32, rdevMajor, rdevMinor int, data []byte) {
	c.ino++
	nlink := 1
	if mode&0o170000 == 0o040000 {
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
