package objectstore

import (
	"context"
	"fmt"

	"berth.dev/berth/internal/store"
)

// collect removes the blob of digest if no object references it any more.
func (s *Store) collect(ctx context.Context, digest string) (bool, error) {
	unlock := s.locks.lock(digest)
	defer unlock()
	return s.collectLocked(ctx, digest)
}

// collectLocked is collect for a caller that holds the digest's lock. Holding the lock from
// the reference check to the removal is what keeps a concurrent put of the same content safe:
// that put renames its blob into place and commits its row under the same lock. It reports
// whether the blob was unreferenced (and so removed, if it existed).
func (s *Store) collectLocked(ctx context.Context, digest string) (bool, error) {
	var referenced bool
	err := s.db.View(ctx, func(tx store.Tx) error {
		var err error
		referenced, err = tx.Objects().DigestReferenced(ctx, digest)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("collect blob %s: %w", digest, err)
	}
	if referenced {
		return false, nil
	}
	if err := s.blobs.remove(digest); err != nil {
		return false, fmt.Errorf("collect blob %s: %w", digest, err)
	}
	return true, nil
}

// CollectGarbage removes every blob that no object references: those left by a crash
// between a blob's rename and its row's commit, and those whose collection after a delete
// failed. It is safe to run while the store serves requests. It returns how many blobs it
// removed.
func (s *Store) CollectGarbage(ctx context.Context) (int, error) {
	digests, err := s.blobs.digests()
	if err != nil {
		return 0, fmt.Errorf("collect garbage: %w", err)
	}
	removed := 0
	for _, d := range digests {
		if err := ctx.Err(); err != nil {
			return removed, fmt.Errorf("collect garbage: %w", err)
		}
		gone, err := s.collect(ctx, d)
		if err != nil {
			return removed, fmt.Errorf("collect garbage: %w", err)
		}
		if gone {
			removed++
		}
	}
	if removed > 0 {
		s.log.Info("collected unreferenced blobs", "count", removed)
	}
	return removed, nil
}
