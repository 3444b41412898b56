package linuxns

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// devices are bound from the host into the sandbox's /dev.
var devices = []string{"null", "zero", "full", "random", "urandom", "tty"}

// buildRoot assembles the sandbox's root filesystem in the child's mount namespace and
// pivots into it; see the package doc.
func buildRoot(c *childConfig) error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	size := "size=" + strconv.FormatInt(c.DiskBytes, 10)
	if err := unix.Mount("tmpfs", c.SessionDir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, size+",mode=0700"); err != nil {
		return fmt.Errorf("writable layer: %w", err)
	}
	s := c.SessionDir
	for _, d := range []string{"upper", "work", "root", "code-upper", "code-work"} {
		if err := os.Mkdir(filepath.Join(s, d), 0o755); err != nil {
			return fmt.Errorf("writable layer: %w", err)
		}
	}
	root := filepath.Join(s, "root")
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", c.Lower, filepath.Join(s, "upper"), filepath.Join(s, "work"))
	if err := unix.Mount("overlay", root, "overlay", unix.MS_NOSUID|unix.MS_NODEV, opts); err != nil {
		return fmt.Errorf("root overlay of %s: %w", c.Lower, err)
	}
	for _, b := range c.Binds {
		if err := bindReadOnly(b.Source, filepath.Join(root, b.Target)); err != nil {
			return err
		}
	}
	if c.CodeDir != "" {
		if err := codeOverlay(c, root); err != nil {
			return err
		}
	} else if err := os.MkdirAll(filepath.Join(root, c.WorkDir), 0o755); err != nil {
		return fmt.Errorf("working directory: %w", err)
	}
	if err := mountAt(root, "proc", "proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return err
	}
	if err := mountAt(root, "tmp", "tmpfs", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, size+",mode=1777"); err != nil {
		return err
	}
	if err := makeDev(root, size); err != nil {
		return err
	}
	return pivot(root)
}

// codeOverlay puts the code tree at the working directory, writable copy-on-write; new
// files belong to the sandbox user.
func codeOverlay(c *childConfig, root string) error {
	upper := filepath.Join(c.SessionDir, "code-upper")
	if err := os.Chown(upper, c.UID, c.GID); err != nil {
		return fmt.Errorf("code layer: %w", err)
	}
	target := filepath.Join(root, c.WorkDir)
	if err := os.MkdirAll(target, 0o755); err != nil {
		return fmt.Errorf("code mount point: %w", err)
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", c.CodeDir, upper, filepath.Join(c.SessionDir, "code-work"))
	if err := unix.Mount("overlay", target, "overlay", unix.MS_NOSUID|unix.MS_NODEV, opts); err != nil {
		return fmt.Errorf("code overlay of %s: %w", c.CodeDir, err)
	}
	return nil
}

// bindReadOnly binds src at dst and makes the bind read-only, nosuid and nodev (a bind
// mount ignores those flags until it is remounted).
func bindReadOnly(src, dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return fmt.Errorf("mount point %s: %w", dst, err)
	}
	if err := unix.Mount(src, dst, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind %s: %w", src, err)
	}
	flags := uintptr(unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV)
	if err := unix.Mount("", dst, "", flags, ""); err != nil {
		return fmt.Errorf("make %s read-only: %w", src, err)
	}
	return nil
}

func mountAt(root, dir, source, fstype string, flags uintptr, data string) error {
	p := filepath.Join(root, dir)
	if err := os.MkdirAll(p, 0o755); err != nil {
		return fmt.Errorf("mount point /%s: %w", dir, err)
	}
	if err := unix.Mount(source, p, fstype, flags, data); err != nil {
		return fmt.Errorf("mount %s on /%s: %w", fstype, dir, err)
	}
	return nil
}

// makeDev builds a minimal /dev: a small tmpfs with the harmless host devices bound in, the
// usual symlinks, and a tmpfs /dev/shm.
func makeDev(root, size string) error {
	if err := mountAt(root, "dev", "tmpfs", "tmpfs", unix.MS_NOSUID|unix.MS_NOEXEC, "size=64k,mode=0755"); err != nil {
		return err
	}
	dev := filepath.Join(root, "dev")
	for _, d := range devices {
		p := filepath.Join(dev, d)
		f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o600) // a mount point: the bind brings the device's own mode
		if err != nil {
			return fmt.Errorf("/dev/%s: %w", d, err)
		}
		_ = f.Close()
		if err := unix.Mount("/dev/"+d, p, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("/dev/%s: %w", d, err)
		}
	}
	links := map[string]string{"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2", "ptmx": "pts/ptmx"}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(dev, name)); err != nil {
			return fmt.Errorf("/dev/%s: %w", name, err)
		}
	}
	return mountAt(dev, "shm", "tmpfs", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, size+",mode=1777")
}

// pivot makes root the root of the mount namespace and detaches the old one.
func pivot(root string) error {
	if err := unix.Chdir(root); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach the old root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	return nil
}
