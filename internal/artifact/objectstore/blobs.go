package objectstore

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"berth.dev/berth/internal/atomicfile"
)

// blobs stores object contents as content-addressed files:
//
//	root/sha256/ab/abcdef…   one file per distinct content, named by its SHA-256
//	root/tmp/put-*           uploads in progress, renamed into place when complete
//
// tmp/ is on the same filesystem as sha256/, so the rename is atomic. A blob is made durable
// (file fsync, rename, directory fsync: atomicfile.Commit) before any metadata row may
// reference it.
type blobs struct {
	root string
	tmp  string
}

const digestPrefix = "sha256:"

func openBlobs(dir string) (*blobs, error) {
	b := &blobs{root: filepath.Join(dir, "sha256"), tmp: filepath.Join(dir, "tmp")}
	for _, d := range []string{b.root, b.tmp} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("open blob directory %s: %w", d, err)
		}
	}
	return b, nil
}

// removeTemp deletes uploads left behind by a crash. Call it only while no upload runs.
func (b *blobs) removeTemp() (int, error) {
	entries, err := os.ReadDir(b.tmp)
	if err != nil {
		return 0, fmt.Errorf("list temporary uploads: %w", err)
	}
	n := 0
	for _, e := range entries {
		if err := os.Remove(filepath.Join(b.tmp, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return n, fmt.Errorf("remove temporary upload %s: %w", e.Name(), err)
		}
		n++
	}
	return n, nil
}

// create returns a new temporary file for an upload.
func (b *blobs) create() (*os.File, error) {
	f, err := os.CreateTemp(b.tmp, "put-*")
	if err != nil {
		return nil, fmt.Errorf("create temporary upload: %w", err)
	}
	return f, nil
}

// path returns the file of a digest, rejecting anything but "sha256:<64 lower-case hex>".
func (b *blobs) path(digest string) (string, error) {
	h, ok := strings.CutPrefix(digest, digestPrefix)
	if !ok || len(h) != 64 || strings.ToLower(h) != h {
		return "", fmt.Errorf("blob digest %q: malformed", digest)
	}
	if _, err := hex.DecodeString(h); err != nil {
		return "", fmt.Errorf("blob digest %q: malformed", digest)
	}
	return filepath.Join(b.root, h[:2], h), nil
}

// commit makes the written temporary file f durable as the blob of digest (fsync, rename,
// directory fsync). If the blob already exists (same content), f is closed and removed
// instead. f is closed when commit returns; on error the caller removes it. The caller holds
// the digest's lock.
func (b *blobs) commit(f *os.File, digest string) error {
	p, err := b.path(digest)
	if err != nil {
		_ = f.Close()
		return err
	}
	if _, err := os.Stat(p); err == nil {
		_ = f.Close() // nothing of it is kept
		if err := os.Remove(f.Name()); err != nil {
			return fmt.Errorf("commit blob %s: remove duplicate upload: %w", digest, err)
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		_ = f.Close()
		return fmt.Errorf("commit blob %s: %w", digest, err)
	}
	if err := atomicfile.Commit(f, p); err != nil {
		return fmt.Errorf("commit blob %s: %w", digest, err)
	}
	return nil
}

// open opens the blob of digest; a missing blob wraps fs.ErrNotExist.
func (b *blobs) open(digest string) (*os.File, error) {
	p, err := b.path(digest)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p) // #nosec G304 -- p is built from a validated hex digest under root
	if err != nil {
		return nil, fmt.Errorf("open blob %s: %w", digest, err)
	}
	return f, nil
}

// remove deletes the blob of digest; a missing blob is not an error. The caller holds the
// digest's lock and has checked that no object references it.
func (b *blobs) remove(digest string) error {
	p, err := b.path(digest)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove blob %s: %w", digest, err)
	}
	return nil
}

// digests lists every stored blob.
func (b *blobs) digests() ([]string, error) {
	var out []string
	err := filepath.WalkDir(b.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		digest := digestPrefix + d.Name()
		if want, err := b.path(digest); err != nil || want != p {
			return nil // not ours; leave it alone
		}
		out = append(out, digest)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list blobs: %w", err)
	}
	return out, nil
}

// keyedMutex is a set of mutexes by name, created on demand and dropped when unused. Put
// holds a digest's lock from renaming the blob into place until its metadata row is
// committed; garbage collection holds it from checking that no row references the digest
// until the file is removed. So a blob is never removed while a put of the same content is
// about to reference it.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*keyedLock
}

type keyedLock struct {
	mu   sync.Mutex
	refs int
}

func (k *keyedMutex) lock(name string) (unlock func()) {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = make(map[string]*keyedLock)
	}
	l := k.locks[name]
	if l == nil {
		l = &keyedLock{}
		k.locks[name] = l
	}
	l.refs++
	k.mu.Unlock()

	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		k.mu.Lock()
		l.refs--
		if l.refs == 0 {
			delete(k.locks, name)
		}
		k.mu.Unlock()
	}
}
