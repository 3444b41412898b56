package atomicfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// names lists the entries of dir.
func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// wantFile fails unless path is a regular file holding content with mode perm.
func wantFile(t *testing.T, path, content string, perm os.FileMode) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != content {
		t.Errorf("%s holds %q, want %q", path, got, content)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode() != perm {
		t.Errorf("%s has mode %v, want %v", path, fi.Mode(), perm)
	}
}

func TestWriteFile(t *testing.T) {
	tests := []struct {
		name     string
		existing string // content already at the path; "" for none
		perm     os.FileMode
	}{
		{name: "new file 0600", perm: 0o600},
		{name: "new file 0644", perm: 0o644},
		{name: "replaces a 0644 file with a 0600 one", existing: "stale", perm: 0o600},
		{name: "replaces a file keeping no old bytes", existing: strings.Repeat("old", 1000), perm: 0o640},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "credentials")
			if tt.existing != "" {
				if err := os.WriteFile(path, []byte(tt.existing), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := WriteFile(path, []byte("new content"), tt.perm); err != nil {
				t.Fatalf("WriteFile: %v", err)
			}
			wantFile(t, path, "new content", tt.perm)
			if diff := cmp.Diff([]string{"credentials"}, names(t, dir)); diff != "" {
				t.Errorf("directory entries (-want +got), a temporary file left behind?\n%s", diff)
			}
		})
	}
}

func TestWriteFile_FailedWriteLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	errBroken := errors.New("source broke")
	err := write(path, 0o644, func(w io.Writer) error {
		if _, err := w.Write([]byte(`{"half":`)); err != nil {
			return err
		}
		return errBroken
	})
	if !errors.Is(err, errBroken) {
		t.Fatalf("write error = %v, want the fill error", err)
	}
	if got := names(t, dir); len(got) != 0 {
		t.Errorf("a failed write left %v behind, want nothing (no temporary file, no destination)", got)
	}
}

func TestWriteFile_FailedRenameKeepsDestination(t *testing.T) {
	dir := t.TempDir()
	// A non-empty directory cannot be replaced by a file: the rename fails after the
	// temporary file was written.
	path := filepath.Join(dir, "taken")
	if err := os.MkdirAll(filepath.Join(path, "inside"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := WriteFile(path, []byte("x"), 0o600)
	if err == nil {
		t.Fatal("WriteFile over a directory succeeded")
	}
	if _, ok := errors.AsType[*os.LinkError](err); !ok {
		t.Errorf("error = %v (%T), want the rename's *os.LinkError", err, err)
	}
	if diff := cmp.Diff([]string{"taken"}, names(t, dir)); diff != "" {
		t.Errorf("directory entries (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"inside"}, names(t, path)); diff != "" {
		t.Errorf("the existing directory changed (-want +got):\n%s", diff)
	}
}

func TestWriteFile_MissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent", "file")
	if err := WriteFile(path, []byte("x"), 0o600); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error = %v, want one matching fs.ErrNotExist", err)
	}
}

func TestWriteNewFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keyring")
	if err := WriteNewFile(path, []byte("first key"), 0o600); err != nil {
		t.Fatalf("WriteNewFile: %v", err)
	}
	wantFile(t, path, "first key", 0o600)

	err := WriteNewFile(path, []byte("second key"), 0o644)
	if !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second WriteNewFile error = %v, want one matching fs.ErrExist", err)
	}
	wantFile(t, path, "first key", 0o600) // untouched
	if diff := cmp.Diff([]string{"keyring"}, names(t, dir)); diff != "" {
		t.Errorf("directory entries (-want +got), a temporary file left behind?\n%s", diff)
	}
}

func TestCommit(t *testing.T) {
	root := t.TempDir()
	tmpDir, dstDir := filepath.Join(root, "tmp"), filepath.Join(root, "blobs")
	for _, d := range []string{tmpDir, dstDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name     string
		existing bool
	}{
		{name: "new name"},
		{name: "replaces an existing file", existing: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := filepath.Join(dstDir, strings.ReplaceAll(tt.name, " ", "-"))
			if tt.existing {
				if err := os.WriteFile(dst, []byte("old"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			f, err := os.CreateTemp(tmpDir, "put-*")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteString("blob content"); err != nil {
				t.Fatal(err)
			}
			if err := Commit(f, dst); err != nil {
				t.Fatalf("Commit: %v", err)
			}
			wantFile(t, dst, "blob content", 0o600) // os.CreateTemp's mode is kept
			if err := f.Close(); !errors.Is(err, os.ErrClosed) {
				t.Errorf("f.Close after Commit = %v, want os.ErrClosed (Commit closes f)", err)
			}
			if got := names(t, tmpDir); len(got) != 0 {
				t.Errorf("temporary directory holds %v after Commit", got)
			}
		})
	}
}

func TestCommit_FailedRenameLeavesTempToCaller(t *testing.T) {
	dir := t.TempDir()
	f, err := os.CreateTemp(dir, "put-*")
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "absent", "blob")
	if err := Commit(f, dst); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Commit into a missing directory: error = %v, want one matching fs.ErrNotExist", err)
	}
	if err := f.Close(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("f.Close after a failed Commit = %v, want os.ErrClosed", err)
	}
	if _, err := os.Stat(f.Name()); err != nil {
		t.Errorf("the temporary file is gone (%v); Commit must leave it to the caller", err)
	}
}

func TestRename_Directory(t *testing.T) {
	root := t.TempDir()
	src, taken, free := filepath.Join(root, "new"), filepath.Join(root, "taken"), filepath.Join(root, "final")
	for _, d := range []string{filepath.Join(src, "tree"), filepath.Join(taken, "tree")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Another preparation placed its tree first: os.Rename refuses to replace a directory.
	if err := Rename(src, taken); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Rename over an existing directory: error = %v, want one matching fs.ErrExist", err)
	}
	if err := Rename(src, free); err != nil {
		t.Fatalf("Rename to a free name: %v", err)
	}
	if diff := cmp.Diff([]string{"final", "taken"}, names(t, root)); diff != "" {
		t.Errorf("entries after Rename (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"tree"}, names(t, free)); diff != "" {
		t.Errorf("the renamed directory's entries (-want +got):\n%s", diff)
	}
}

func TestSyncDir(t *testing.T) {
	dir := t.TempDir()
	if err := SyncDir(dir); err != nil {
		t.Errorf("SyncDir(%s): %v", dir, err)
	}
	missing := filepath.Join(dir, "missing")
	err := SyncDir(missing)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "sync directory "+missing) {
		t.Errorf("SyncDir of a missing directory: error = %v, want fs.ErrNotExist naming the directory", err)
	}
}
