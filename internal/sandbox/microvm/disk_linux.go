package microvm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"berth.dev/berth/internal/atomicfile"
)

// diskBuildTimeout bounds building one disk image (mkfs.ext4 of up to a few GB).
const diskBuildTimeout = 10 * time.Minute

// diskImage returns an ext4 image of tree, building it on first use. Images live in
// CacheDir/disks, named by the tree's identity (every entry's path, type, mode, owner,
// size, mtime and link target), so a changed tree gets a new image. Trees handed to the
// driver (image root filesystems, code directories) are treated as immutable while the
// driver runs: the identity is computed once per process.
func (d *Driver) diskImage(ctx context.Context, tree string) (string, error) {
	d.mu.Lock()
	b, ok := d.disks[tree]
	if !ok {
		b = &oneBuild[string]{}
		d.disks[tree] = b
	}
	d.mu.Unlock()
	return b.get(ctx, diskBuildTimeout, func(ctx context.Context) (string, error) {
		id, err := treeIdentity(tree)
		if err != nil {
			return "", fmt.Errorf("disk image of %s: %w", tree, err)
		}
		out := filepath.Join(d.cfg.CacheDir, "disks", id+".ext4")
		if !fileExists(out) {
			if err := BuildDiskImage(ctx, tree, out); err != nil {
				return "", err
			}
		}
		return out, nil
	})
}

// treeIdentity hashes the metadata of every entry under tree.
func treeIdentity(tree string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "berth-disk-v1\n%s\n", tree)
	err := filepath.WalkDir(tree, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := de.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(tree, p)
		var uid, gid uint32
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			uid, gid = st.Uid, st.Gid
		}
		link := ""
		if fi.Mode()&fs.ModeSymlink != 0 {
			link, _ = os.Readlink(p)
		}
		fmt.Fprintf(h, "%q %v %d:%d %d %d %q\n", rel, fi.Mode(), uid, gid, fi.Size(), fi.ModTime().UnixNano(), link)
		return nil
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil))[:32], nil
}

// BuildDiskImage writes an ext4 image (no journal, read-only use) holding a copy of tree
// to out, with mkfs.ext4 -d from e2fsprogs. Ownership and modes are kept. The image is
// sized from the tree with headroom; it is written to a temporary file and renamed, so out
// is either complete or absent.
func BuildDiskImage(ctx context.Context, tree, out string) error {
	var bytes, inodes int64
	err := filepath.WalkDir(tree, func(_ string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		inodes++
		if de.Type().IsRegular() {
			fi, err := de.Info()
			if err != nil {
				return err
			}
			bytes += (fi.Size() + 4095) &^ 4095
		} else {
			bytes += 4096
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("disk image of %s: %w", tree, err)
	}
	size := bytes + bytes/5 + inodes*256 + 16<<20
	if err := os.MkdirAll(filepath.Dir(out), 0o750); err != nil {
		return fmt.Errorf("disk image of %s: %w", tree, err)
	}
	f, err := os.CreateTemp(filepath.Dir(out), ".disk-")
	if err != nil {
		return fmt.Errorf("disk image of %s: %w", tree, err)
	}
	defer func() { _ = os.Remove(f.Name()) }()
	if err := f.Truncate(size); err != nil {
		_ = f.Close()
		return fmt.Errorf("disk image of %s: %w", tree, err)
	}
	cmd := exec.CommandContext(ctx, "mkfs.ext4", "-q", "-F", "-b", "4096", "-O", "^has_journal",
		"-N", strconv.FormatInt(inodes+1024, 10), "-m", "0", "-L", "berth", "-d", tree, f.Name())
	if outb, err := cmd.CombinedOutput(); err != nil {
		_ = f.Close()
		return fmt.Errorf("disk image of %s: mkfs.ext4: %w: %s", tree, err, outb)
	}
	// mkfs adds lost+found; the tree is what the guest must see.
	if _, err := os.Lstat(filepath.Join(tree, "lost+found")); errors.Is(err, fs.ErrNotExist) {
		cmd := exec.CommandContext(ctx, "debugfs", "-w", "-R", "rmdir lost+found", f.Name())
		if outb, err := cmd.CombinedOutput(); err != nil {
			_ = f.Close()
			return fmt.Errorf("disk image of %s: debugfs: %w: %s", tree, err, outb)
		}
	}
	if err := atomicfile.Commit(f, out); err != nil {
		return fmt.Errorf("disk image of %s: %w", tree, err)
	}
	return nil
}
