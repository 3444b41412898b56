package main

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// warmBudget bounds how much of the root filesystem warmPageCache reads.
const warmBudget = 48 << 20

// warmPageCache reads the root filesystem's files (up to warmBudget bytes) into the page
// cache before the snapshot, so every restored VM finds the agent's binary and libraries
// in memory (shared copy-on-write through the template's RAM file) instead of reading
// them through the emulated disk while the agent starts.
func warmPageCache() {
	budget := int64(warmBudget)
	buf := make([]byte, 256<<10)
	_ = filepath.WalkDir("/", func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if de.IsDir() {
			switch p {
			case "/proc", "/sys", "/dev", "/tmp", "/mnt":
				return filepath.SkipDir
			}
			return nil
		}
		if !de.Type().IsRegular() || budget <= 0 {
			return nil
		}
		f, err := os.Open(p) //nolint:gosec // our own read-only root, before any agent runs
		if err != nil {
			return nil
		}
		n, _ := io.CopyBuffer(io.Discard, io.LimitReader(f, budget), buf)
		budget -= n
		_ = f.Close()
		if budget <= 0 {
			return filepath.SkipAll
		}
		return nil
	})
}
