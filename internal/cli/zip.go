package cli

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
)

// skipDirs are never packed into a code zip: VCS metadata, the CLI's own state, caches.
var skipDirs = map[string]bool{".git": true, ".berth": true, "__pycache__": true, ".venv": true}

// zipTree is one directory packed into a code zip: its files go under prefix ("" for the
// root of the zip); top-level directories named in skip are left out.
type zipTree struct {
	dir    string
	prefix string
	skip   map[string]bool
}

// zipTrees packs trees into one code zip, in order; a path already packed from an earlier
// tree is not packed again. It reads through os.Root, so symbolic links cannot lead outside
// a tree.
func zipTrees(trees ...zipTree) ([]byte, int, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	seen := map[string]bool{}
	files := 0
	for _, t := range trees {
		n, err := addTree(zw, t, seen)
		if err != nil {
			return nil, 0, fmt.Errorf("zip %s: %w", t.dir, err)
		}
		files += n
	}
	if err := zw.Close(); err != nil {
		return nil, 0, fmt.Errorf("zip: %w", err)
	}
	return buf.Bytes(), files, nil
}

func addTree(zw *zip.Writer, t zipTree, seen map[string]bool) (int, error) {
	root, err := os.OpenRoot(t.dir)
	if err != nil {
		return 0, err
	}
	defer func() { _ = root.Close() }()
	files := 0
	err = fs.WalkDir(root.FS(), ".", func(rel string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if rel != "." && (skipDirs[d.Name()] || (t.skip[rel])) {
				return fs.SkipDir
			}
			return nil
		}
		name := path.Join(t.prefix, rel)
		if !d.Type().IsRegular() || seen[name] {
			return nil
		}
		seen[name] = true
		info, err := d.Info()
		if err != nil {
			return err
		}
		hdr, err := zip.FileInfoHeader(info)
		if err != nil {
			return err
		}
		hdr.Name, hdr.Method = name, zip.Deflate
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
	return files, err
}
