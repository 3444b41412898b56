package cli

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// skipDirs are never packed into a code zip: VCS metadata, the CLI's own state, caches.
var skipDirs = map[string]bool{".git": true, ".berth": true, "__pycache__": true, ".venv": true}

// zipDir packs the regular files under dir into a code zip, paths relative to dir. It
// reads through os.Root, so symbolic links cannot lead outside dir.
func zipDir(dir string) ([]byte, int, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, 0, fmt.Errorf("open %s: %w", dir, err)
	}
	defer func() { _ = root.Close() }()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	files := 0
	err = fs.WalkDir(root.FS(), ".", func(rel string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if rel != "." && skipDirs[d.Name()] {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		hdr, err := zip.FileInfoHeader(info)
		if err != nil {
			return err
		}
		hdr.Name, hdr.Method = rel, zip.Deflate
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		f, err := root.Open(rel)
		if err != nil {
			return err
		}
		defer func() { _ = f.Close() }()
		if _, err := io.Copy(w, f); err != nil {
			return err
		}
		files++
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("zip %s: %w", dir, err)
	}
	if err := zw.Close(); err != nil {
		return nil, 0, fmt.Errorf("zip %s: %w", dir, err)
	}
	return buf.Bytes(), files, nil
}
