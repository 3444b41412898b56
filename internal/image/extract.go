package image

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"

	"berth.dev/berth/internal/atomicfile"
	"berth.dev/berth/internal/errdefs"
)

// cleanEntryName turns an archive entry name into a clean relative path ("." for the root),
// or reports why it is unsafe.
func cleanEntryName(name string) (string, error) {
	name = strings.ReplaceAll(name, `\`, "/")
	if strings.HasPrefix(name, "/") || (len(name) >= 2 && name[1] == ':') {
		return "", fmt.Errorf("entry %q has an absolute path", name)
	}
	clean := path.Clean(name)
	if clean == "." {
		return clean, nil
	}
	if !filepath.IsLocal(clean) {
		return "", fmt.Errorf("entry %q escapes the extraction directory", name)
	}
	return clean, nil
}

// extractTar writes a flattened image filesystem (the output of mutate.Extract) into the
// empty directory dst. Every write goes through an os.Root, so no entry and no symlink can
// make it land outside dst. Entries that exist already are skipped: mutate.Extract emits
// upper layers first, so the first entry for a path wins. Device nodes and FIFOs are skipped.
// Ownership is kept when running as root; directory modes are applied last so read-only
// directories can still be filled.
func extractTar(ctx context.Context, r io.Reader, dst string, logger *slog.Logger) error {
	root, err := os.OpenRoot(dst)
	if err != nil {
		return fmt.Errorf("open rootfs %s: %w", dst, err)
	}
	defer func() { _ = root.Close() }()
	asRoot := os.Geteuid() == 0
	dirModes := map[string]fs.FileMode{}
	type link struct{ name, target string }
	var links []link
	skipped := 0
	tr := tar.NewReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read image filesystem: %w", err)
		}
		name, err := cleanEntryName(hdr.Name)
		if err != nil {
			return fmt.Errorf("image layer %w: %w", err, errdefs.ErrInvalidArgument)
		}
		mode := hdr.FileInfo().Mode()
		if !asRoot {
			mode &^= fs.ModeSetuid | fs.ModeSetgid
		}
		if name == "." {
			if hdr.Typeflag == tar.TypeDir {
				dirModes["."] = mode
			}
			continue
		}
		if hdr.Typeflag != tar.TypeDir && exists(root, name) {
			continue
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			if fi, err := root.Lstat(name); err == nil && !fi.IsDir() {
				continue // an upper layer put something else here
			}
			if _, seen := dirModes[name]; seen {
				continue
			}
			if err := root.MkdirAll(name, 0o755); err != nil {
				return fmt.Errorf("create directory %s: %w", name, err)
			}
			dirModes[name] = mode
		case tar.TypeReg, tar.TypeRegA: //nolint:staticcheck // TypeRegA still appears in old layers
			if err := writeFile(root, name, tr, mode); err != nil {
				return err
			}
			if err := root.Chtimes(name, hdr.ModTime, hdr.ModTime); err != nil {
				return fmt.Errorf("set times of %s: %w", name, err)
			}
		case tar.TypeSymlink:
			if err := root.MkdirAll(path.Dir(name), 0o755); err != nil {
				return fmt.Errorf("create directory %s: %w", path.Dir(name), err)
			}
			// The target is only ever resolved inside the sandbox's own root.
			if err := root.Symlink(hdr.Linkname, name); err != nil {
				return fmt.Errorf("create symlink %s: %w", name, err)
			}
		case tar.TypeLink:
			target, err := cleanEntryName(hdr.Linkname)
			if err != nil || target == "." {
				return fmt.Errorf("image layer hard link %s: unsafe target %q: %w", name, hdr.Linkname, errdefs.ErrInvalidArgument)
			}
			links = append(links, link{name, target}) // the target may come later
			continue
		default: // char and block devices, FIFOs, and anything else
			skipped++
			continue
		}
		if asRoot {
			if err := root.Lchown(name, hdr.Uid, hdr.Gid); err != nil {
				return fmt.Errorf("chown %s: %w", name, err)
			}
		}
	}
	for _, l := range links {
		if err := root.MkdirAll(path.Dir(l.name), 0o755); err != nil {
			return fmt.Errorf("create directory %s: %w", path.Dir(l.name), err)
		}
		if err := root.Link(l.target, l.name); err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrExist) {
				skipped++
				continue
			}
			return fmt.Errorf("create hard link %s: %w", l.name, err)
		}
	}
	for name, mode := range dirModes {
		if err := root.Chmod(name, mode); err != nil {
			return fmt.Errorf("chmod directory %s: %w", name, err)
		}
	}
	if skipped > 0 {
		logger.DebugContext(ctx, "skipped image entries (devices, FIFOs, dangling hard links)", "count", skipped)
	}
	return nil
}

func exists(root *os.Root, name string) bool {
	_, err := root.Lstat(name)
	return err == nil
}

// writeFile creates name (which must not exist) with the content of r and mode, fsynced.
func writeFile(root *os.Root, name string, r io.Reader, mode fs.FileMode) error {
	if err := root.MkdirAll(path.Dir(name), 0o755); err != nil {
		return fmt.Errorf("create directory %s: %w", path.Dir(name), err)
	}
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	if _, err := io.Copy(f, r); err != nil {
		_ = f.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Chmod(mode); err != nil {
		_ = f.Close()
		return fmt.Errorf("chmod %s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("sync %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", name, err)
	}
	return nil
}

// placeTree renames the finished temporary tree tmp to final, durably. If another
// preparation got there first, its tree is used and tmp is left for the caller to remove.
//
// The tree's top directory becomes world-searchable (os.MkdirTemp made it 0700): sandboxes
// run their agents as an unprivileged user that must be able to enter it, and the files
// inside keep the modes the artifact gave them.
func placeTree(tmp, final string) error {
	if err := os.Chmod(tmp, 0o755); err != nil { //nolint:gosec // G302: a prepared tree is read by the sandbox user
		return fmt.Errorf("make prepared tree searchable: %w", err)
	}
	if err := atomicfile.Rename(tmp, final); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil // lost the race: the winner's tree is identical
		}
		return fmt.Errorf("move prepared tree into place: %w", err)
	}
	return nil
}

// removeTree removes p and everything below it, first making read-only directories writable
// (an image may contain them, and without root they block removal).
func removeTree(p string) error {
	if err := os.RemoveAll(p); err == nil {
		return nil
	}
	_ = filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(q, 0o700) //nolint:gosec // a directory needs its search bit to be emptied; best effort
		}
		return nil
	})
	if err := os.RemoveAll(p); err != nil {
		return fmt.Errorf("remove %s: %w", p, err)
	}
	return nil
}
