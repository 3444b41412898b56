package image

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// GC removes prepared trees whose digest ("sha256:<hex>", as in PreparedArtifact.Digest) is
// not in keep. Trees a Prepare is working on, and trees created or reused within
// Options.GCGrace, are kept, so a version prepared just now survives until the caller has
// recorded it. It returns how many trees it removed.
func (p *Preparer) GC(ctx context.Context, keep map[string]bool) (int, error) {
	cutoff := time.Now().Add(-p.opts.GCGrace)
	removed := 0
	for _, kind := range []string{"code", "rootfs"} {
		entries, err := os.ReadDir(filepath.Join(p.dir, kind))
		if err != nil {
			return removed, fmt.Errorf("gc prepared trees: %w", err)
		}
		for _, e := range entries {
			if err := ctx.Err(); err != nil {
				return removed, err
			}
			if !e.IsDir() || strings.HasPrefix(e.Name(), ".") || keep["sha256:"+e.Name()] {
				continue
			}
			ok, err := p.gcTree(ctx, kind, e.Name(), cutoff)
			if err != nil {
				return removed, err
			}
			if ok {
				removed++
			}
		}
	}
	return removed, nil
}

// gcTree removes one tree unless it is in use or recent. Under the lock it is renamed into
// the temporary directory, so a concurrent Prepare never sees it half removed.
func (p *Preparer) gcTree(ctx context.Context, kind, hex string, cutoff time.Time) (bool, error) {
	final := filepath.Join(p.dir, kind, hex)
	p.mu.Lock()
	if p.inflight[kind+"/"+hex] > 0 {
		p.mu.Unlock()
		return false, nil
	}
	fi, err := os.Stat(final)
	if err != nil || fi.ModTime().After(cutoff) {
		p.mu.Unlock()
		return false, nil
	}
	doomed, err := os.MkdirTemp(p.tmpDir(), "gc-")
	if err == nil {
		err = os.Rename(final, filepath.Join(doomed, "tree"))
	}
	if err == nil && kind == "rootfs" {
		err = os.Remove(ConfigPath(final))
		if errors.Is(err, fs.ErrNotExist) {
			err = nil
		}
	}
	p.mu.Unlock()
	if err != nil {
		return false, fmt.Errorf("gc %s/%s: %w", kind, hex, err)
	}
	if err := removeTree(doomed); err != nil {
		return false, fmt.Errorf("gc %s/%s: %w", kind, hex, err)
	}
	p.logger.InfoContext(ctx, "removed unused prepared tree", "kind", kind, "digest", "sha256:"+hex)
	return true, nil
}
