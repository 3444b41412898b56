//go:build linux

package microvm

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// evictSnapshots keeps the MaxSnapshots most recently used agent snapshots, and always the
// one just built; builds in progress (dot directories) are left alone.
func TestEvictSnapshots_KeepsTheMostRecentlyUsed(t *testing.T) {
	d, err := New(Config{StateDir: t.TempDir(), CacheDir: t.TempDir(), MaxSnapshots: 2})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for i, name := range []string{"oldest", "old", "new", "newest", ".build-1"} {
		dir := filepath.Join(d.snapshotsDir(), name)
		if err := os.MkdirAll(dir, 0o750); err != nil {
			t.Fatal(err)
		}
		at := now.Add(time.Duration(i-5) * time.Minute)
		if err := os.Chtimes(dir, at, at); err != nil {
			t.Fatal(err)
		}
	}
	d.evictSnapshots(t.Context(), "oldest") // just built, then never used
	des, err := os.ReadDir(d.snapshotsDir())
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, de := range des {
		left = append(left, de.Name())
	}
	if want := []string{".build-1", "newest", "oldest"}; !slices.Equal(left, want) {
		t.Errorf("left %v, want %v", left, want)
	}
}
