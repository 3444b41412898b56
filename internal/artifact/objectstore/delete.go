package objectstore

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"berth.dev/berth/internal/store"
)

// DeleteObject removes every version of bucket/key and then the blobs no other object
// references. Deleting a missing key is not an error (S3 semantics); a missing bucket is an
// error wrapping errdefs.ErrNotFound.
func (s *Store) DeleteObject(ctx context.Context, bucket, key string) error {
	if err := validateBucketName(bucket); err != nil {
		return fmt.Errorf("delete object %s/%s: %w", bucket, key, err)
	}
	var digests []string
	err := s.db.Update(ctx, func(tx store.Tx) error {
		if _, err := getBucket(ctx, tx, bucket); err != nil {
			return err
		}
		var err error
		digests, err = tx.Objects().DeleteObject(ctx, bucket, key)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete object %s/%s: %w", bucket, key, err)
	}
	// The rows are gone; a blob that cannot be collected now is an orphan that
	// CollectGarbage removes later, so failures here are logged, not returned.
	slices.Sort(digests)
	for _, d := range slices.Compact(digests) {
		if _, err := s.collect(context.WithoutCancel(ctx), d); err != nil {
			s.log.Warn("collect blob after delete", "digest", d, "error", err)
		}
	}
	return nil
}

// deleteObject serves DeleteObject. Deleting one version is not supported: the metadata
// store can only remove every version of a key.
func (h *handler) deleteObject(w http.ResponseWriter, r *http.Request, t target, q url.Values) error {
	if q.Has("versionId") {
		return errNotImplemented("Deleting one object version")
	}
	if err := h.s.DeleteObject(r.Context(), t.bucket, t.key); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
