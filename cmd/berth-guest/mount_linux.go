package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
func switchRoot() error {
	dev, err := diskBySerial(guestapi.RootDiskSerial)
	if err != nil {
		return err
	}
	if dev == "" {
		return errors.New("no root disk (virtio-blk serial " + guestapi.RootDiskSerial + ")")
	}
	const lower, rw, root = "/mnt/lower", "/mnt/rw", "/mnt/root"
	for _, d := range []string{lower, rw, root} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("switch root: %w", err)
		}
	}
	if err := unix.Mount(dev, lower, "ext4", unix.MS_RDONLY, "noload"); err != nil {
		return fmt.Errorf("mount root disk %s: %w", dev, err)
	}
	if err := unix.Mount("tmpfs", rw, "tmpfs", 0, "mode=0755"); err != nil {
		return fmt.Errorf("mount overlay upper: %w", err)
	}
	for _, d := range []string{rw + "/upper", rw + "/work"} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return fmt.Errorf("switch root: %w", err)
		}
	}
	opts := "lowerdir=" + lower + ",upperdir=" + rw + "/upper,workdir=" + rw + "/work"
	if err := unix.Mount("overlay", root, "overlay", 0, opts); err != nil {
		return fmt.Errorf("mount overlay root: %w", err)
	}
	for _, d := range []string{"proc", "sys", "dev"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return fmt.Errorf("switch root: %w", err)
		}
		if err := unix.Mount("/"+d, filepath.Join(root, d), "", unix.MS_MOVE, ""); err != nil {
			return fmt.Errorf("move /%s: %w", d, err)
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "tmp"), 0o755); err != nil {
		return fmt.Errorf("switch root: %w", err)
	}
	if err := os.Chmod(filepath.Join(root, "tmp"), 0o1777); err != nil { //nolint:gosec // /tmp is world-writable and sticky by definition
		return fmt.Errorf("switch root: %w", err)
	}
	if err := unix.Chdir(root); err != nil {
		return fmt.Errorf("switch root: %w", err)
	}
	if err := unix.Mount(".", "/", "", unix.MS_MOVE, ""); err != nil {
		return fmt.Errorf("switch root: move to /: %w", err)
	}
	if err := unix.Chroot("."); err != nil {
		return fmt.Errorf("switch root: chroot: %w", err)
	}
	return unix.Chdir("/")
}

// mountCode mounts the code disk read-only at dir (in the new root).
func mountCode(dir string) error {
	dev, err := diskBySerial(guestapi.CodeDiskSerial)
	if err != nil {
		return err
	}
	if dev == "" {
		return errors.New("no code disk (virtio-blk serial " + guestapi.CodeDiskSerial + ")")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("mount code: %w", err)
	}
	if err := unix.Mount(dev, dir, "ext4", unix.MS_RDONLY|unix.MS_NODEV|unix.MS_NOSUID, "noload"); err != nil {
		return fmt.Errorf("mount code disk %s at %s: %w", dev, dir, err)
	}
	return nil
}
