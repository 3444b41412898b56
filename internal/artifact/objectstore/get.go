package objectstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"berth.dev/berth/internal/artifact"
	"berth.dev/berth/internal/store"
)

var _ artifact.ObjectSource = (*Store)(nil)

// OpenObject opens the current version of bucket/key (versionID "") or one version. Reading
// the returned content to EOF checks it against its digest and fails on a mismatch.
func (s *Store) OpenObject(ctx context.Context, bucket, key, versionID string) (io.ReadCloser, artifact.ObjectInfo, error) {
	obj, f, err := s.open(ctx, bucket, key, versionID)
	if err != nil {
		return nil, artifact.ObjectInfo{}, fmt.Errorf("open object %s/%s: %w", bucket, key, err)
	}
	info := artifact.ObjectInfo{Size: obj.Size, Digest: obj.Digest, ETag: obj.ETag, VersionID: obj.VersionID}
	return &verifyingReader{f: f, h: sha256.New(), digest: obj.Digest}, info, nil
}

// open returns an object's metadata and its blob, opened. Once open, the content stays
// readable even if the object is deleted and its blob collected.
func (s *Store) open(ctx context.Context, bucket, key, versionID string) (store.Object, *os.File, error) {
	obj, err := s.statObject(ctx, bucket, key, versionID)
	if err != nil {
		return store.Object{}, nil, err
	}
	unlock := s.locks.lock(obj.Digest)
	f, err := s.blobs.open(obj.Digest)
	unlock()
	if errors.Is(err, fs.ErrNotExist) {
		// Deleted (and collected) between reading the row and opening the blob, or lost.
		if _, serr := s.statObject(ctx, bucket, key, obj.VersionID); serr != nil {
			return store.Object{}, nil, serr
		}
		return store.Object{}, nil, fmt.Errorf("object %s/%s version %s: blob missing: %w", bucket, key, obj.VersionID, err)
	}
	if err != nil {
		return store.Object{}, nil, err
	}
	st, err := f.Stat()
	if err == nil && st.Size() != obj.Size {
		err = fmt.Errorf("blob %s has %d bytes, want %d", obj.Digest, st.Size(), obj.Size)
	}
	if err != nil {
		_ = f.Close() // reporting the stat problem
		return store.Object{}, nil, fmt.Errorf("object %s/%s: %w", bucket, key, err)
	}
	return obj, f, nil
}

// verifyingReader reads a blob and fails at EOF if the content does not hash to its digest.
type verifyingReader struct {
	f      *os.File
	h      hash.Hash
	digest string
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	n, err := v.f.Read(p)
	v.h.Write(p[:n])
	if errors.Is(err, io.EOF) {
		if got := digestPrefix + hex.EncodeToString(v.h.Sum(nil)); got != v.digest {
			return n, fmt.Errorf("blob %s is corrupt: content hashes to %s", v.digest, got)
		}
	}
	return n, err
}

func (v *verifyingReader) Close() error { return v.f.Close() }

// getObject serves GetObject and HeadObject.
func (h *handler) getObject(w http.ResponseWriter, r *http.Request, t target, q url.Values) error {
	ctx := r.Context()
	obj, f, err := h.s.open(ctx, t.bucket, t.key, q.Get("versionId"))
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }() // read-only

	hdr := w.Header()
	hdr.Set("ETag", obj.ETag)
	hdr.Set("Last-Modified", obj.CreatedAt.UTC().Format(http.TimeFormat))
	hdr.Set("X-Amz-Version-Id", obj.VersionID)
	notModified, err := checkPreconditions(r, obj)
	if err != nil {
		return err
	}
	if notModified {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	start, length, partial, err := parseRange(r.Header.Get("Range"), obj.Size)
	if err != nil {
		return err
	}

	ct := obj.ContentType
	if ct == "" {
		ct = "binary/octet-stream"
	}
	hdr.Set("Content-Type", ct)
	hdr.Set("Accept-Ranges", "bytes")
	for k, v := range obj.Metadata {
		hdr.Set("X-Amz-Meta-"+k, v)
	}
	for param, header := range responseOverrides {
		if v := q.Get(param); v != "" {
			hdr.Set(header, v)
		}
	}
	hdr.Set("Content-Length", strconv.FormatInt(length, 10))
	status := http.StatusOK
	if partial {
		status = http.StatusPartialContent
		hdr.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, start+length-1, obj.Size))
	}
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return nil
	}
	var src io.Reader = io.NewSectionReader(f, start, length)
	if !partial {
		src = &verifyingReader{f: f, h: sha256.New(), digest: obj.Digest}
	}
	rec := &readErrRecorder{r: src}
	if _, err := io.Copy(w, rec); err != nil {
		if rec.err == nil {
			h.log.DebugContext(ctx, "get object: client went away", "error", err)
			return nil
		}
		h.log.ErrorContext(ctx, "get object: reading blob failed", "bucket", t.bucket,
			"key", t.key, "digest", obj.Digest, "error", rec.err)
		// The status line is sent: abort the connection so the client sees a failed body.
		panic(http.ErrAbortHandler)
	}
	return nil
}

// responseOverrides are GetObject's query parameters that replace response headers.
var responseOverrides = map[string]string{
	"response-content-type":        "Content-Type",
	"response-content-language":    "Content-Language",
	"response-expires":             "Expires",
	"response-cache-control":       "Cache-Control",
	"response-content-disposition": "Content-Disposition",
	"response-content-encoding":    "Content-Encoding",
}

// checkPreconditions evaluates If-Match, If-Unmodified-Since, If-None-Match and
// If-Modified-Since in RFC 9110's order. It reports 304 Not Modified as true and a failed
// precondition as 412 PreconditionFailed.
func checkPreconditions(r *http.Request, obj store.Object) (bool, error) {
	modified := obj.CreatedAt.UTC().Truncate(time.Second)
	if im := r.Header.Get("If-Match"); im != "" {
		if !etagMatches(im, obj.ETag) {
			return false, errPreconditionFailed()
		}
	} else if t, err := http.ParseTime(r.Header.Get("If-Unmodified-Since")); err == nil && modified.After(t) {
		return false, errPreconditionFailed()
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		return etagMatches(inm, obj.ETag), nil
	}
	if t, err := http.ParseTime(r.Header.Get("If-Modified-Since")); err == nil && !modified.After(t) {
		return true, nil
	}
	return false, nil
}

// etagMatches reports whether a comma-separated If-Match / If-None-Match list names etag.
func etagMatches(list, etag string) bool {
	want := strings.Trim(etag, `"`)
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		item = strings.TrimPrefix(item, "W/")
		if item == "*" || strings.Trim(item, `"`) == want {
			return true
		}
	}
	return false
}

// parseRange interprets a Range header the way S3 does: one "bytes=" range is served as
// 206; a malformed header or several ranges are ignored (the whole object is sent); a range
// that starts past the end is 416 InvalidRange.
func parseRange(header string, size int64) (start, length int64, partial bool, err error) {
	spec, ok := strings.CutPrefix(strings.TrimSpace(header), "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return 0, size, false, nil
	}
	first, last, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return 0, size, false, nil
	}
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	if first == "" {
		n, perr := strconv.ParseInt(last, 10, 64)
		if perr != nil || n < 0 {
			return 0, size, false, nil
		}
		if n == 0 || size == 0 {
			return 0, 0, false, errInvalidRange()
		}
		n = min(n, size)
		return size - n, n, true, nil
	}
	a, perr := strconv.ParseInt(first, 10, 64)
	if perr != nil || a < 0 {
		return 0, size, false, nil
	}
	end := size - 1
	if last != "" {
		b, perr := strconv.ParseInt(last, 10, 64)
		if perr != nil || b < a {
			return 0, size, false, nil
		}
		end = min(b, size-1)
	}
	if a >= size {
		return 0, 0, false, errInvalidRange()
	}
	return a, end - a + 1, true, nil
}
