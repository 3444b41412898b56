// Package objectstore is Berth's built-in S3-compatible object store, where code zips live.
//
// Object contents are content-addressed files under a data directory (blobs.go); object and
// bucket metadata are rows of store.Objects. Handler serves the path-style subset of the S3
// REST API that the usual tools need (buckets, PutObject, GetObject, HeadObject,
// DeleteObject, ListObjectsV2) under a path prefix, "/s3" by default, so the AWS SDK's S3
// client works with BaseEndpoint=<server>/s3 and path-style addressing. Store also
// implements artifact.ObjectSource, and External and Router let chosen buckets resolve
// against an external S3-compatible endpoint instead.
//
// Durability: a put writes the body to a temporary file while hashing it, fsyncs it, renames
// it to its digest and fsyncs the directory, and only then commits the metadata row. A crash
// can leave an unreferenced blob (removed by CollectGarbage) but never a row without a blob.
// Every put of a new version keeps the older versions; DeleteObject removes every version
// and then the blobs no other object references.
//
// A Store assumes it is the only process writing its directory.
package objectstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"
	"unicode/utf8"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/store"
)

// Defaults for Options.
const (
	DefaultPathPrefix    = "/s3"
	DefaultMaxObjectSize = 5 << 30 // 5 GiB, S3's single-PUT limit
	DefaultRegion        = "us-east-1"
)

// maxKeyLength is S3's limit on object key length in bytes.
const maxKeyLength = 1024

// Options configures a Store. The zero value takes every default.
type Options struct {
	// PathPrefix is where Handler expects the S3 API (DefaultPathPrefix); "/" serves it at
	// the root.
	PathPrefix string
	// MaxObjectSize bounds one object's size in bytes (DefaultMaxObjectSize).
	MaxObjectSize int64
	// Region is what GetBucketLocation and HeadBucket report (DefaultRegion).
	Region string
	// MapAuthError turns an Authenticator error into the S3 error to answer. Nil answers
	// every authentication failure with 403 AccessDenied.
	MapAuthError func(error) (status int, code, message string)
}

// Store is the built-in object store. It is safe for concurrent use.
type Store struct {
	db    store.Store
	blobs *blobs
	log   *slog.Logger
	opts  Options
	locks keyedMutex
}

// New opens the object store keeping blobs under dir and metadata in st. It removes
// temporary files that an interrupted upload left in dir, so only one Store may use dir.
func New(st store.Store, dir string, logger *slog.Logger, opts Options) (*Store, error) {
	if st == nil || logger == nil {
		return nil, errors.New("new object store: store and logger are required")
	}
	if opts.PathPrefix == "" {
		opts.PathPrefix = DefaultPathPrefix
	}
	// "/" mounts the API at the root; the prefix is kept without its trailing slash.
	opts.PathPrefix = strings.TrimRight("/"+strings.Trim(opts.PathPrefix, "/"), "/")
	if opts.MaxObjectSize <= 0 {
		opts.MaxObjectSize = DefaultMaxObjectSize
	}
	if opts.Region == "" {
		opts.Region = DefaultRegion
	}
	b, err := openBlobs(dir)
	if err != nil {
		return nil, fmt.Errorf("new object store: %w", err)
	}
	n, err := b.removeTemp()
	if err != nil {
		return nil, fmt.Errorf("new object store: %w", err)
	}
	if n > 0 {
		logger.Info("removed interrupted uploads", "count", n, "dir", b.tmp)
	}
	return &Store{db: st, blobs: b, log: logger, opts: opts}, nil
}

// CreateBucket creates an empty bucket. An existing bucket is an error wrapping
// errdefs.ErrConflict; an invalid name wraps errdefs.ErrInvalidArgument.
func (s *Store) CreateBucket(ctx context.Context, name string) error {
	if err := validateBucketName(name); err != nil {
		return fmt.Errorf("create bucket %s: %w", name, err)
	}
	b := store.Bucket{Name: name, CreatedAt: now()}
	err := s.db.Update(ctx, func(tx store.Tx) error { return tx.Objects().CreateBucket(ctx, b) })
	if errors.Is(err, errdefs.ErrConflict) {
		return fmt.Errorf("create bucket %s: %w", name, errBucketExists())
	}
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", name, err)
	}
	return nil
}

// DeleteBucket removes an empty bucket: a missing one wraps errdefs.ErrNotFound, a non-empty
// one errdefs.ErrConflict.
func (s *Store) DeleteBucket(ctx context.Context, name string) error {
	err := s.db.Update(ctx, func(tx store.Tx) error { return tx.Objects().DeleteBucket(ctx, name) })
	switch {
	case errors.Is(err, errdefs.ErrNotFound):
		return fmt.Errorf("delete bucket %s: %w", name, errNoSuchBucket(name))
	case errors.Is(err, errdefs.ErrConflict):
		return fmt.Errorf("delete bucket %s: %w", name, errBucketNotEmpty())
	case err != nil:
		return fmt.Errorf("delete bucket %s: %w", name, err)
	}
	return nil
}

// ListBuckets returns every bucket by name.
func (s *Store) ListBuckets(ctx context.Context) ([]store.Bucket, error) {
	var out []store.Bucket
	err := s.db.View(ctx, func(tx store.Tx) error {
		var err error
		out, err = tx.Objects().ListBuckets(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list buckets: %w", err)
	}
	return out, nil
}

// getBucket returns the bucket or the NoSuchBucket error.
func getBucket(ctx context.Context, tx store.Tx, name string) (store.Bucket, error) {
	b, err := tx.Objects().GetBucket(ctx, name)
	if errors.Is(err, errdefs.ErrNotFound) {
		return b, errNoSuchBucket(name)
	}
	return b, err
}

// statObject returns the metadata of the current version (versionID "") or of one version,
// with S3's errors for a missing bucket, key or version.
func (s *Store) statObject(ctx context.Context, bucket, key, versionID string) (store.Object, error) {
	if err := validateBucketName(bucket); err != nil {
		return store.Object{}, err
	}
	var obj store.Object
	err := s.db.View(ctx, func(tx store.Tx) error {
		if _, err := getBucket(ctx, tx, bucket); err != nil {
			return err
		}
		var err error
		obj, err = tx.Objects().GetObject(ctx, bucket, key, versionID)
		if errors.Is(err, errdefs.ErrNotFound) {
			if versionID != "" {
				return errNoSuchVersion()
			}
			return errNoSuchKey()
		}
		return err
	})
	return obj, err
}

// now is the time recorded on new rows, at the store's millisecond precision.
func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// newVersionID returns a unique, time-ordered, opaque version id.
func newVersionID() string {
	var b [16]byte
	ms := uint64(time.Now().UnixMilli()) // #nosec G115 -- after 1970
	for i := range 6 {
		b[i] = byte(ms >> (8 * (5 - i)))
	}
	_, _ = rand.Read(b[6:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// validateBucketName applies S3's general-purpose bucket naming rules.
func validateBucketName(name string) error {
	if len(name) < 3 || len(name) > 63 {
		return errInvalidBucketName(name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-'
		if !ok {
			return errInvalidBucketName(name)
		}
	}
	first, last := name[0], name[len(name)-1]
	if first == '.' || first == '-' || last == '.' || last == '-' {
		return errInvalidBucketName(name)
	}
	if strings.Contains(name, "..") || net.ParseIP(name) != nil {
		return errInvalidBucketName(name)
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			return errInvalidBucketName(name)
		}
	}
	for _, sfx := range []string{"-s3alias", "--ol-s3", "--x-s3", ".mrap"} {
		if strings.HasSuffix(name, sfx) {
			return errInvalidBucketName(name)
		}
	}
	return nil
}

// validateKey checks an object key: 1–1024 bytes of UTF-8.
func validateKey(key string) error {
	if key == "" {
		return errInvalidArgument("The object key must not be empty.")
	}
	if len(key) > maxKeyLength {
		return errKeyTooLong()
	}
	if !utf8.ValidString(key) {
		return errInvalidArgument("The object key must be UTF-8.")
	}
	return nil
}
