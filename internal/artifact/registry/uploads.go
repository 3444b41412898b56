package registry

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"berth.dev/berth/internal/errdefs"
)

// uploadTTL is how long an abandoned upload is kept before New removes it.
const uploadTTL = 7 * 24 * time.Hour

// uploadStore keeps uploads in progress as files dir/<id>; the upload's offset is the file's
// size. Operations on one upload are serialized; different uploads proceed in parallel.
type uploadStore struct {
	dir   string
	mu    sync.Mutex
	locks map[string]*refMutex
}

type refMutex struct {
	sync.Mutex
	refs int
}

func newUploadStore(dir string, logger *slog.Logger) (*uploadStore, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create uploads directory %s: %w", dir, err)
	}
	u := &uploadStore{dir: dir, locks: map[string]*refMutex{}}
	if err := u.prune(time.Now().Add(-uploadTTL)); err != nil {
		// Not fatal: stale uploads only cost disk space.
		logger.Warn("prune stale registry uploads", "error", err)
	}
	return u, nil
}

// prune removes uploads last written before cutoff and every leftover ".put-" temp file;
// it runs before the registry serves, so no put is in flight.
func (u *uploadStore) prune(cutoff time.Time) error {
	entries, err := os.ReadDir(u.dir)
	if err != nil {
		return fmt.Errorf("read uploads directory: %w", err)
	}
	var errs []error
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		if strings.HasPrefix(e.Name(), ".put-") || info.ModTime().Before(cutoff) {
			if err := os.Remove(filepath.Join(u.dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// lock serializes operations on upload id until the returned function is called.
func (u *uploadStore) lock(id string) func() {
	u.mu.Lock()
	m := u.locks[id]
	if m == nil {
		m = &refMutex{}
		u.locks[id] = m
	}
	m.refs++
	u.mu.Unlock()
	m.Lock()
	return func() {
		m.Unlock()
		u.mu.Lock()
		m.refs--
		if m.refs == 0 {
			delete(u.locks, id)
		}
		u.mu.Unlock()
	}
}

// create starts an empty upload and returns its id.
func (u *uploadStore) create() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("create upload id: %w", err)
	}
	id := hex.EncodeToString(b[:])
	f, err := os.OpenFile(u.path(id), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return "", fmt.Errorf("create upload %s: %w", id, err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("create upload %s: %w", id, err)
	}
	return id, nil
}

func (u *uploadStore) path(id string) string { return filepath.Join(u.dir, id) }

// validUploadID reports whether id has the form create makes, which keeps it a plain name.
func validUploadID(id string) bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil && strings.ToLower(id) == id
}

// size returns the bytes received so far, or an error wrapping ErrNotFound.
func (u *uploadStore) size(id string) (int64, error) {
	fi, err := os.Stat(u.path(id))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("upload %s: %w", id, errdefs.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("stat upload %s: %w", id, err)
	}
	return fi.Size(), nil
}

// appendChunk appends r to upload id, which holds size bytes. On failure the upload is cut
// back to size, so the client can resume from the offset it is told.
func (u *uploadStore) appendChunk(id string, size int64, r io.Reader) (int64, error) {
	f, err := os.OpenFile(u.path(id), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return 0, fmt.Errorf("open upload %s: %w", id, err)
	}
	n, err := io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if terr := os.Truncate(u.path(id), size); terr != nil {
			err = errors.Join(err, terr)
		}
		return 0, fmt.Errorf("append to upload %s: %w", id, err)
	}
	return n, nil
}

func (u *uploadStore) remove(id string) error {
	if err := os.Remove(u.path(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove upload %s: %w", id, err)
	}
	return nil
}

// startUpload answers POST /v2/<name>/blobs/uploads/: a cross-repository mount
// (?mount=&from=), a monolithic upload (?digest=), or the start of a chunked upload.
func (r *Registry) startUpload(w http.ResponseWriter, req *http.Request, name string) error {
	q := req.URL.Query()
	if mount := q.Get("mount"); mount != "" {
		h, err := parseDigest(mount)
		if err != nil {
			return newError(http.StatusBadRequest, codeDigestInvalid, "invalid digest %q", mount)
		}
		_, err = r.blobs.stat(h)
		switch {
		case err == nil: // blobs are shared by every repository, so the mount is immediate
			return blobCreated(w, name, h.String())
		case !errors.Is(err, errdefs.ErrNotFound):
			return internalError("stat blob", err)
		}
		// Unknown blob: fall back to a regular upload, as the specification asks.
	}
	if digest := q.Get("digest"); digest != "" {
		h, err := parseDigest(digest)
		if err != nil {
			return newError(http.StatusBadRequest, codeDigestInvalid, "invalid digest %q", digest)
		}
		if _, err := r.blobs.put(h, req.Body); err != nil {
			if errors.Is(err, errDigestMismatch) {
				return newError(http.StatusBadRequest, codeDigestInvalid, "content does not match digest %s", h)
			}
			return internalError("store blob", err)
		}
		return blobCreated(w, name, h.String())
	}
	id, err := r.uploads.create()
	if err != nil {
		return internalError("start upload", err)
	}
	uploadAccepted(w, name, id, 0, http.StatusAccepted)
	return nil
}

// upload answers GET (status), PATCH (chunk), PUT (finish) and DELETE (cancel) on
// /v2/<name>/blobs/uploads/<id>.
func (r *Registry) upload(w http.ResponseWriter, req *http.Request, name, id string) error {
	if !validUploadID(id) {
		return errUploadUnknown
	}
	unlock := r.uploads.lock(id)
	defer unlock()
	size, err := r.uploads.size(id)
	if errors.Is(err, errdefs.ErrNotFound) {
		return errUploadUnknown
	}
	if err != nil {
		return internalError("stat upload", err)
	}
	switch req.Method {
	case http.MethodGet:
		uploadAccepted(w, name, id, size, http.StatusNoContent)
		return nil
	case http.MethodDelete:
		if err := r.uploads.remove(id); err != nil {
			return internalError("cancel upload", err)
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	case http.MethodPatch:
		size, err := r.appendChunk(w, req, name, id, size)
		if err != nil {
			return err
		}
		uploadAccepted(w, name, id, size, http.StatusAccepted)
		return nil
	case http.MethodPut:
		return r.finishUpload(w, req, name, id, size)
	}
	return errMethod
}

// appendChunk appends the request body, honoring Content-Range, and returns the new size.
func (r *Registry) appendChunk(w http.ResponseWriter, req *http.Request, name, id string, size int64) (int64, error) {
	want := int64(-1)
	if cr := req.Header.Get("Content-Range"); cr != "" {
		start, end, ok := parseContentRange(cr)
		if !ok || start != size {
			// Out of order: tell the client where the upload stands.
			w.Header().Set("Location", uploadLocation(name, id))
			w.Header().Set("Range", rangeHeader(size))
			return 0, newError(http.StatusRequestedRangeNotSatisfiable, codeBlobUploadInvalid,
				"content range %q does not continue the upload at offset %d", cr, size)
		}
		want = end - start + 1
	}
	n, err := r.uploads.appendChunk(id, size, req.Body)
	if err != nil {
		return 0, internalError("append to upload", err)
	}
	if want >= 0 && n != want {
		if err := os.Truncate(r.uploads.path(id), size); err != nil {
			return 0, internalError("truncate upload", err)
		}
		return 0, newError(http.StatusBadRequest, codeSizeInvalid, "chunk has %d bytes, content range says %d", n, want)
	}
	return size + n, nil
}

// finishUpload appends any final chunk, verifies the digest and moves the blob into place.
func (r *Registry) finishUpload(w http.ResponseWriter, req *http.Request, name, id string, size int64) error {
	digest := req.URL.Query().Get("digest")
	h, err := parseDigest(digest)
	if err != nil {
		return newError(http.StatusBadRequest, codeDigestInvalid, "invalid or missing digest %q", digest)
	}
	if _, err := r.appendChunk(w, req, name, id, size); err != nil {
		return err
	}
	if _, err := r.blobs.commitFile(r.uploads.path(id), h); err != nil {
		if errors.Is(err, errDigestMismatch) {
			if rerr := r.uploads.remove(id); rerr != nil {
				r.logger.WarnContext(req.Context(), "remove failed upload", "error", rerr)
			}
			return newError(http.StatusBadRequest, codeDigestInvalid, "content does not match digest %s", h)
		}
		return internalError("commit upload", err)
	}
	return blobCreated(w, name, h.String())
}

// parseContentRange reads "<start>-<end>" (optionally with a "bytes " prefix).
func parseContentRange(s string) (start, end int64, ok bool) {
	s = strings.TrimPrefix(s, "bytes ")
	a, b, found := strings.Cut(s, "-")
	if !found {
		return 0, 0, false
	}
	start, err1 := strconv.ParseInt(a, 10, 64)
	end, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || start < 0 || end < start {
		return 0, 0, false
	}
	return start, end, true
}

func uploadLocation(name, id string) string { return "/v2/" + name + "/blobs/uploads/" + id }

// rangeHeader is the inclusive byte range received so far, "0-<size-1>" ("0-0" when empty).
func rangeHeader(size int64) string {
	return "0-" + strconv.FormatInt(max(size-1, 0), 10)
}

func uploadAccepted(w http.ResponseWriter, name, id string, size int64, status int) {
	w.Header().Set("Location", uploadLocation(name, id))
	w.Header().Set("Range", rangeHeader(size))
	w.Header().Set("Docker-Upload-UUID", id)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(status)
}

func blobCreated(w http.ResponseWriter, name, digest string) error {
	w.Header().Set("Location", "/v2/"+name+"/blobs/"+digest)
	w.Header().Set("Docker-Content-Digest", digest)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
	return nil
}
