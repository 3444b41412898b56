// Package atomicfile puts files in place so that readers, and the filesystem after a crash,
// see either the old content or the new, never a mix: the content goes into a temporary file
// on the same filesystem, which is fsynced, then renamed (or hard-linked) to its name, and
// finally the directory holding that name is fsynced so the new entry is durable too.
//
// Errors are those of the os package (they name the step and the file), except SyncDir's,
// which says "sync directory"; callers wrap them with their own operation.
package atomicfile

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteFile replaces path with data, mode perm (applied exactly, without the umask). The
// temporary file is created in path's directory, which must exist, and is removed if any step
// before the rename fails, so a failed WriteFile leaves neither a temporary file nor a new
// path behind. An error from the final directory sync means path has already been replaced.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// write is WriteFile with the content produced by fill.
func write(path string, perm os.FileMode, fill func(io.Writer) error) error {
	tmp, err := writeTemp(path, perm, fill)
	if err != nil {
		return err
	}
	if err := Rename(tmp, path); err != nil {
		_ = os.Remove(tmp) // fails harmlessly if the rename succeeded and only the sync did not
		return err
	}
	return nil
}

// WriteNewFile creates path holding data, mode perm (applied exactly), unless path already
// exists: then it returns an error matching fs.ErrExist and leaves the existing file alone,
// even if another process created it a moment earlier. Readers never see a partly written
// file. The directory must exist; no temporary file remains afterwards.
func WriteNewFile(path string, data []byte, perm os.FileMode) error {
	tmp, err := writeTemp(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp) }() // path, if linked, keeps the content
	if err := os.Link(tmp, path); err != nil {
		return err
	}
	return SyncDir(filepath.Dir(path))
}

// writeTemp writes a complete, fsynced and closed temporary file beside path and returns
// its name. On error nothing is left behind.
func writeTemp(path string, perm os.FileMode, fill func(io.Writer) error) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return "", err
	}
	err = fill(f)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err != nil {
		_ = f.Close()
		_ = os.Remove(f.Name())
		return "", err
	}
	if err := syncClose(f); err != nil {
		_ = os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// Commit makes the temporary file f, already written, durable under the name dst: it fsyncs
// and closes f, renames it to dst (replacing any file there) and fsyncs dst's directory. f
// must be on dst's filesystem. f is closed when Commit returns, whatever happened; on error
// the temporary file is left for the caller to remove (a deferred os.Remove(f.Name()) is
// harmless once the rename has happened).
func Commit(f *os.File, dst string) error {
	if err := syncClose(f); err != nil {
		return err
	}
	return Rename(f.Name(), dst)
}

// Rename renames oldpath to newpath and fsyncs newpath's directory, making the rename
// durable. A failed rename is returned as is (an *os.LinkError), so callers may test it with
// errors.Is: renaming a directory onto an existing directory fails with fs.ErrExist.
func Rename(oldpath, newpath string) error {
	if err := os.Rename(oldpath, newpath); err != nil {
		return err
	}
	return SyncDir(filepath.Dir(newpath))
}

// SyncDir fsyncs the directory dir, which makes the entries created, renamed or removed in it
// durable.
func SyncDir(dir string) error {
	d, err := os.Open(filepath.Clean(dir))
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	serr := d.Sync()
	cerr := d.Close()
	if serr != nil {
		return fmt.Errorf("sync directory %s: %w", dir, serr)
	}
	if cerr != nil {
		return fmt.Errorf("sync directory %s: %w", dir, cerr)
	}
	return nil
}

// syncClose fsyncs and closes f; f is closed even if the sync fails.
func syncClose(f *os.File) error {
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
