package process

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// copyTree copies the tree at src into the existing directory dst: directories (made
// writable by their owner, so the agent can write next to its code), regular files with
// their modes, and symlinks as they are. Other file types are refused. Both trees are
// accessed through os.Root, so no symlink leads outside them. Regular files are copied
// with copy_file_range, which shares extents on filesystems that can.
func copyTree(src, dst string) (err error) {
	from, err := os.OpenRoot(src)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, from.Close()) }()
	to, err := os.OpenRoot(dst)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, to.Close()) }()
	return fs.WalkDir(from.FS(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path == "." {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch mode := info.Mode(); {
		case mode.IsDir():
			if err := to.Mkdir(path, mode.Perm()|0o700); err != nil {
				return err
			}
			return to.Chmod(path, mode.Perm()|0o700) // undo the umask
		case mode&fs.ModeSymlink != 0:
			link, err := from.Readlink(path)
			if err != nil {
				return err
			}
			return to.Symlink(link, path)
		case mode.IsRegular():
			return copyFile(from, to, path, mode.Perm())
		default:
			return fmt.Errorf("copy %s: unsupported file type %s", path, mode.Type())
		}
	})
}

func copyFile(from, to *os.Root, path string, perm fs.FileMode) (err error) {
	in, err := from.Open(path)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, in.Close()) }()
	out, err := to.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return fmt.Errorf("copy %s: %w", path, err)
	}
	if err := out.Close(); err != nil {
		return err
	}
	return to.Chmod(path, perm) // undo the umask: the tree's modes are what the agent expects
}
