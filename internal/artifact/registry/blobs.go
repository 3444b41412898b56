package registry

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"berth.dev/berth/internal/atomicfile"
	"berth.dev/berth/internal/errdefs"
)

// errDigestMismatch reports content whose sha256 is not the digest it was sent under.
var errDigestMismatch = errors.New("content does not match digest")

// blobStore keeps blobs as content-addressed files, dir/sha256/<hex>. A blob file is only
// ever created by renaming a complete, fsynced temporary file, so a file that exists is whole
// and matches its name.
type blobStore struct {
	dir string // root of the content-addressed files
	tmp string // temporary files, on the same filesystem as dir
}

func newBlobStore(dir, tmp string) (*blobStore, error) {
	for _, d := range []string{filepath.Join(dir, "sha256"), tmp} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("create blob directory %s: %w", d, err)
		}
	}
	return &blobStore{dir: dir, tmp: tmp}, nil
}

// parseDigest accepts only "sha256:<64 lower-case hex>": the one algorithm this registry
// stores, and a form that is safe to use as a file name.
func parseDigest(s string) (v1.Hash, error) {
	alg, hexPart, ok := strings.Cut(s, ":")
	if !ok || alg != "sha256" || len(hexPart) != 64 {
		return v1.Hash{}, fmt.Errorf("parse digest %q: %w", s, errdefs.ErrInvalidArgument)
	}
	for _, c := range hexPart {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return v1.Hash{}, fmt.Errorf("parse digest %q: %w", s, errdefs.ErrInvalidArgument)
		}
	}
	return v1.Hash{Algorithm: alg, Hex: hexPart}, nil
}

func (b *blobStore) path(h v1.Hash) string {
	return filepath.Join(b.dir, h.Algorithm, h.Hex)
}

// stat returns the size of blob h, or an error wrapping ErrNotFound.
func (b *blobStore) stat(h v1.Hash) (int64, error) {
	if _, err := parseDigest(h.String()); err != nil {
		return 0, err
	}
	fi, err := os.Stat(b.path(h))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("stat blob %s: %w", h, errdefs.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("stat blob %s: %w", h, err)
	}
	return fi.Size(), nil
}

// open returns blob h for reading, or an error wrapping ErrNotFound.
func (b *blobStore) open(h v1.Hash) (*os.File, error) {
	if _, err := parseDigest(h.String()); err != nil {
		return nil, err
	}
	f, err := os.Open(b.path(h))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("open blob %s: %w", h, errdefs.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("open blob %s: %w", h, err)
	}
	return f, nil
}

// put stores the content of r as blob h, failing with errDigestMismatch if it does not hash
// to h. It returns the number of bytes stored.
func (b *blobStore) put(h v1.Hash, r io.Reader) (int64, error) {
	f, err := os.CreateTemp(b.tmp, ".put-*")
	if err != nil {
		return 0, fmt.Errorf("put blob %s: %w", h, err)
	}
	defer func() { _ = os.Remove(f.Name()) }() // a no-op once renamed
	hasher := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, hasher), r)
	if err != nil {
		_ = f.Close()
		return n, fmt.Errorf("put blob %s: %w", h, err)
	}
	if got := hex.EncodeToString(hasher.Sum(nil)); got != h.Hex {
		_ = f.Close()
		return n, fmt.Errorf("put blob %s: got sha256:%s: %w", h, got, errDigestMismatch)
	}
	if err := b.commit(f, h); err != nil {
		return n, err
	}
	return n, nil
}

// commitFile verifies that the file at p hashes to h and moves it into place as blob h.
func (b *blobStore) commitFile(p string, h v1.Hash) (int64, error) {
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		return 0, fmt.Errorf("commit blob %s: %w", h, err)
	}
	hasher := sha256.New()
	n, err := io.Copy(hasher, f)
	if err != nil {
		_ = f.Close()
		return n, fmt.Errorf("commit blob %s: %w", h, err)
	}
	if got := hex.EncodeToString(hasher.Sum(nil)); got != h.Hex {
		_ = f.Close()
		return n, fmt.Errorf("commit blob %s: got sha256:%s: %w", h, got, errDigestMismatch)
	}
	return n, b.commit(f, h)
}

// commit fsyncs and closes f, then renames it to blob h and fsyncs the directory. Renaming
// over an existing blob is harmless: the content is identical.
func (b *blobStore) commit(f *os.File, h v1.Hash) error {
	if err := atomicfile.Commit(f, b.path(h)); err != nil {
		return fmt.Errorf("commit blob %s: %w", h, err)
	}
	return nil
}

// serveBlob answers GET and HEAD /v2/<name>/blobs/<digest>, with Range support.
func (r *Registry) serveBlob(w http.ResponseWriter, req *http.Request, digest string) error {
	h, err := parseDigest(digest)
	if err != nil {
		return newError(http.StatusBadRequest, codeDigestInvalid, "invalid digest %q", digest)
	}
	f, err := r.blobs.open(h)
	if errors.Is(err, errdefs.ErrNotFound) {
		return errBlobUnknown
	}
	if err != nil {
		return internalError("open blob", err)
	}
	defer func() { _ = f.Close() }()
	w.Header().Set("Docker-Content-Digest", h.String())
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Etag", `"`+h.String()+`"`)
	// ServeContent answers HEAD, Range and If-Range; the zero time disables Last-Modified.
	http.ServeContent(w, req, "", time.Time{}, f)
	return nil
}
