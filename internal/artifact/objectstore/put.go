package objectstore

import (
	"context"
	"crypto/md5" // #nosec G501 -- S3's ETag and Content-MD5 are MD5 by definition
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/store"
)

// putInput is one upload: where it goes, what the client declared about it, and the checks
// to run once the whole body has been read.
type putInput struct {
	bucket      string
	key         string
	contentType string
	metadata    map[string]string
	// size is the body's declared (decoded) size, or -1 when unknown.
	size int64
	// hashers are extra hashes fed with the content, for checksums the client sent.
	hashers []hash.Hash
	// verify runs after the body has been read and before anything is made durable; an
	// error aborts the upload.
	verify func(putSums) error
}

// putSums is what a put computed over the content.
type putSums struct {
	size   int64
	sha256 []byte
	md5    []byte
}

// PutObject stores r as a new current version of bucket/key and returns its metadata. A
// missing bucket is an error wrapping errdefs.ErrNotFound; an invalid key or an object over
// the size limit wraps errdefs.ErrInvalidArgument. Nothing is stored if r fails.
func (s *Store) PutObject(ctx context.Context, bucket, key string, r io.Reader, contentType string) (store.Object, error) {
	return s.put(ctx, putInput{bucket: bucket, key: key, contentType: contentType, size: -1}, r)
}

func (s *Store) put(ctx context.Context, in putInput, body io.Reader) (store.Object, error) {
	obj, err := s.putBlob(ctx, in, body)
	if err != nil {
		return store.Object{}, fmt.Errorf("put object %s/%s: %w", in.bucket, in.key, err)
	}
	return obj, nil
}

func (s *Store) putBlob(ctx context.Context, in putInput, body io.Reader) (store.Object, error) {
	if err := validateBucketName(in.bucket); err != nil {
		return store.Object{}, err
	}
	if err := validateKey(in.key); err != nil {
		return store.Object{}, err
	}
	if in.size > s.opts.MaxObjectSize {
		return store.Object{}, errEntityTooLarge(s.opts.MaxObjectSize)
	}
	// Refuse before reading the body when the bucket is missing.
	if err := s.db.View(ctx, func(tx store.Tx) error {
		_, err := getBucket(ctx, tx, in.bucket)
		return err
	}); err != nil {
		return store.Object{}, err
	}

	f, err := s.blobs.create()
	if err != nil {
		return store.Object{}, err
	}
	tmp := f.Name()
	closed, placed := false, false
	defer func() {
		if !closed {
			_ = f.Close() // the upload failed; its error is the one that matters
		}
		if !placed {
			if err := os.Remove(tmp); err != nil {
				s.log.Warn("remove failed upload", "path", tmp, "error", err)
			}
		}
	}()

	sha, sum5 := sha256.New(), md5.New() // #nosec G401 -- ETag
	writers := []io.Writer{f, sha, sum5}
	for _, h := range in.hashers {
		writers = append(writers, h)
	}
	src := &readErrRecorder{r: io.LimitReader(body, s.opts.MaxObjectSize+1)}
	n, err := io.Copy(io.MultiWriter(writers...), src)
	if err != nil {
		if src.err != nil {
			if _, ok := errors.AsType[*apiError](src.err); ok || errors.Is(src.err, errdefs.ErrUnauthenticated) {
				return store.Object{}, fmt.Errorf("read body: %w", src.err)
			}
			return store.Object{}, fmt.Errorf("read body: %w: %w", errIncompleteBody(), src.err)
		}
		return store.Object{}, fmt.Errorf("write blob: %w", err)
	}
	if n > s.opts.MaxObjectSize {
		return store.Object{}, errEntityTooLarge(s.opts.MaxObjectSize)
	}
	if in.size >= 0 && n != in.size {
		return store.Object{}, errIncompleteBody()
	}
	sums := putSums{size: n, sha256: sha.Sum(nil), md5: sum5.Sum(nil)}
	if in.verify != nil {
		if err := in.verify(sums); err != nil {
			return store.Object{}, err
		}
	}

	obj := store.Object{
		Bucket:      in.bucket,
		Key:         in.key,
		VersionID:   newVersionID(),
		Digest:      digestPrefix + hex.EncodeToString(sums.sha256),
		Size:        n,
		ETag:        `"` + hex.EncodeToString(sums.md5) + `"`,
		ContentType: in.contentType,
		Metadata:    in.metadata,
		CreatedAt:   now(),
	}
	unlock := s.locks.lock(obj.Digest)
	defer unlock()
	closed = true // commit closes f, whatever happens
	if err := s.blobs.commit(f, obj.Digest); err != nil {
		return store.Object{}, err
	}
	placed = true
	err = s.db.Update(ctx, func(tx store.Tx) error { return tx.Objects().PutObject(ctx, obj) })
	if err != nil {
		// The blob may now be referenced by nothing; collect it while still holding its lock.
		if _, gcErr := s.collectLocked(context.WithoutCancel(ctx), obj.Digest); gcErr != nil {
			s.log.Warn("collect blob of failed put", "digest", obj.Digest, "error", gcErr)
		}
		if errors.Is(err, errdefs.ErrNotFound) {
			return store.Object{}, errNoSuchBucket(in.bucket)
		}
		return store.Object{}, fmt.Errorf("record object: %w", err)
	}
	return obj, nil
}

// readErrRecorder remembers the error its reader returned, to tell the client's fault (a
// body that failed) from the server's (a blob that could not be written).
type readErrRecorder struct {
	r   io.Reader
	err error
}

func (r *readErrRecorder) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		r.err = err
	}
	return n, err
}
