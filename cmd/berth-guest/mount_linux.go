package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"berth.dev/berth/internal/sandbox/microvm/guestapi"
)

// mountEarly mounts the kernel filesystems in the initramfs.
func mountEarly() error {
	for _, m := range []struct{ src, dir, fstype string }{
		{"proc", "/proc", "proc"},
		{"sysfs", "/sys", "sysfs"},
		{"devtmpfs", "/dev", "devtmpfs"},
	} {
		if err := os.MkdirAll(m.dir, 0o755); err != nil {
			return fmt.Errorf("mount %s: %w", m.dir, err)
		}
		if err := unix.Mount(m.src, m.dir, m.fstype, unix.MS_NOSUID|unix.MS_NOEXEC, ""); err != nil && !errors.Is(err, unix.EBUSY) {
			return fmt.Errorf("mount %s: %w", m.dir, err)
		}
	}
	return nil
}

// diskBySerial returns /dev/vdX of the virtio disk with the given serial, or "".
func diskBySerial(serial string) (string, error) {
	entries, err := os.ReadDir("/sys/block")
	if err != nil {
		return "", fmt.Errorf("list disks: %w", err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/sys/block", e.Name(), "serial"))
		if err == nil && strings.TrimSpace(string(b)) == serial {
			return "/dev/" + e.Name(), nil
		}
	}
	return "", nil
}

// switchRoot mounts the root disk read-only under a tmpfs-backed overlay and makes it /.
// Both are nosuid and nodev: a setuid-root binary of the image runs with the caller's
// ids. It returns the writable layer, which the new root no longer shows.
func switchRoot() (*writableLayer, error) {
	dev, err := diskBySerial(guestapi.RootDiskSerial)
	if err != nil {
		return nil, err
	}
	if dev == "" {
		return nil, errors.New("no root disk (virtio-blk serial " + guestapi.RootDiskSerial + ")")
	}
	const lower, rw, root = "/mnt/lower", "/mnt/rw", "/mnt/root"
	for _, d := range []string{lower, rw, root} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("switch root: %w", err)
		}
	}
	const safe = unix.MS_NOSUID | unix.MS_NODEV
	if err := unix.Mount(dev, lower, "ext4", unix.MS_RDONLY|safe, "noload"); err != nil {
		return nil, fmt.Errorf("mount root disk %s: %w", dev, err)
	}
	if err := unix.Mount("tmpfs", rw, "tmpfs", safe, "mode=0755"); err != nil {
		return nil, fmt.Errorf("mount overlay upper: %w", err)
	}
	fd, err := unix.Open(rw, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open overlay upper: %w", err)
	}
	layer := &writableLayer{fd: fd}
	for _, d := range []string{rw + "/upper", rw + "/work"} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return nil, fmt.Errorf("switch root: %w", err)
		}
	}
	opts := "lowerdir=" + lower + ",upperdir=" + rw + "/upper,workdir=" + rw + "/work"
	if err := unix.Mount("overlay", root, "overlay", safe, opts); err != nil {
		return nil, fmt.Errorf("mount overlay root: %w", err)
	}
	for _, d := range []string{"proc", "sys", "dev"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return nil, fmt.Errorf("switch root: %w", err)
		}
		if err := unix.Mount("/"+d, filepath.Join(root, d), "", unix.MS_MOVE, ""); err != nil {
			return nil, fmt.Errorf("move /%s: %w", d, err)
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "tmp"), 0o755); err != nil {
		return nil, fmt.Errorf("switch root: %w", err)
	}
	if err := os.Chmod(filepath.Join(root, "tmp"), 0o1777); err != nil { //nolint:gosec // /tmp is world-writable and sticky by definition
		return nil, fmt.Errorf("switch root: %w", err)
	}
	if err := unix.Chdir(root); err != nil {
		return nil, fmt.Errorf("switch root: %w", err)
	}
	if err := unix.Mount(".", "/", "", unix.MS_MOVE, ""); err != nil {
		return nil, fmt.Errorf("switch root: move to /: %w", err)
	}
	if err := unix.Chroot("."); err != nil {
		return nil, fmt.Errorf("switch root: chroot: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return nil, fmt.Errorf("switch root: %w", err)
	}
	return layer, nil
}

// writableLayer is the tmpfs under the root overlay's upper layer, which holds every
// change to the root and /tmp.
type writableLayer struct {
	fd int // O_PATH descriptor of its mount point, hidden under the new root
}

// path is the path of name in the layer, reached through its descriptor.
func (w *writableLayer) path(name string) string {
	return "/proc/self/fd/" + strconv.Itoa(w.fd) + "/" + name
}

// resize bounds the layer to size bytes (tmpfs counts what was written so far; the
// kernel refuses a size below it).
func (w *writableLayer) resize(size int64) error {
	target := w.path("")
	if err := unix.Mount("", target, "", unix.MS_REMOUNT|unix.MS_NOSUID|unix.MS_NODEV, "size="+strconv.FormatInt(size, 10)); err != nil {
		return fmt.Errorf("size the writable layer to %d bytes: %w", size, err)
	}
	return nil
}

// mountCode mounts the code disk at dir (in the new root), writable copy-on-write like
// the root: the disk read-only as the lower layer, and the upper layer in the writable
// layer's tmpfs (out of the root's sight), owned by uid:gid so that the session's user may
// write to its working directory.
func (g *guest) mountCode(dir string, uid, gid int) error {
	dev, err := diskBySerial(guestapi.CodeDiskSerial)
	if err != nil {
		return err
	}
	if dev == "" {
		return errors.New("no code disk (virtio-blk serial " + guestapi.CodeDiskSerial + ")")
	}
	base := g.layer.path("code")
	lower, upper, work := base+"/lower", base+"/upper", base+"/work"
	for _, d := range []string{lower, upper, work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("mount code: %w", err)
		}
	}
	if err := os.Chown(upper, uid, gid); err != nil {
		return fmt.Errorf("mount code: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("mount code: %w", err)
	}
	const safe = unix.MS_NOSUID | unix.MS_NODEV
	if err := unix.Mount(dev, lower, "ext4", unix.MS_RDONLY|safe, "noload"); err != nil {
		return fmt.Errorf("mount code disk %s: %w", dev, err)
	}
	opts := "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work
	if err := unix.Mount("overlay", dir, "overlay", safe, opts); err != nil {
		return fmt.Errorf("mount code overlay at %s: %w", dir, err)
	}
	return nil
}
