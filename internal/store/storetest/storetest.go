// Package storetest is the conformance suite every store.Store implementation must pass
// (the embedded SQLite store now, Postgres later). An implementation's test calls Run with
// a function that opens a fresh, empty store:
//
//	func TestDB_Conformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
//	}
//
// Beyond store.go's contract the suite pins these behaviours, which callers rely on:
//   - a list limit of zero or less means no limit;
//   - inserting a child whose parent is missing (a version or endpoint of an unknown
//     runtime, an object in an unknown bucket, a tag on an unknown manifest) is ErrNotFound;
//   - an endpoint ID is unique across runtimes (ErrConflict);
//   - ListObjects and DeleteObject on an unknown bucket are ErrNotFound;
//   - keys and names sort as bytes (S3's UTF-8 binary order).
package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"berth.dev/berth/internal/store"
)

// Opener returns a new, empty store. Run closes every store it opens when its subtest ends.
type Opener func(t *testing.T) store.Store

// Run runs the whole suite, one subtest per aggregate.
func Run(t *testing.T, open Opener) {
	t.Run("Runtimes", func(t *testing.T) { testRuntimes(t, open) })
	t.Run("Versions", func(t *testing.T) { testVersions(t, open) })
	t.Run("Endpoints", func(t *testing.T) { testEndpoints(t, open) })
	t.Run("Tx", func(t *testing.T) { testTx(t, open) })
	t.Run("Idempotency", func(t *testing.T) { testIdempotency(t, open) })
	t.Run("AccessKeys", func(t *testing.T) { testAccessKeys(t, open) })
	t.Run("Buckets", func(t *testing.T) { testBuckets(t, open) })
	t.Run("Objects", func(t *testing.T) { testObjects(t, open) })
	t.Run("Registry", func(t *testing.T) { testRegistry(t, open) })
	t.Run("Sessions", func(t *testing.T) { testSessions(t, open) })
	t.Run("Usage", func(t *testing.T) { testUsage(t, open) })
}

// t0 is the suite's reference instant: UTC with millisecond precision, so every store
// returns it unchanged.
var t0 = time.Date(2026, 3, 14, 15, 9, 26, 535_000_000, time.UTC)

// at returns t0 plus n seconds.
func at(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }

func ptr[T any](v T) *T { return &v }

// fresh opens a store and closes it when t ends.
func fresh(t *testing.T, open Opener) store.Store {
	t.Helper()
	s := open(t)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return s
}

// update runs fn in a write transaction and fails the test on error.
func update(t *testing.T, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	if err := s.Update(t.Context(), fn); err != nil {
		t.Fatalf("update: %v", err)
	}
}

// view runs fn in a read transaction and fails the test on error.
func view(t *testing.T, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	if err := s.View(t.Context(), fn); err != nil {
		t.Fatalf("view: %v", err)
	}
}

// insert writes items in one write transaction, each with put, and fails the test on error.
func insert[T any](t *testing.T, s store.Store, items []T, put func(ctx context.Context, tx store.Tx, item T) error) {
	t.Helper()
	update(t, s, func(tx store.Tx) error {
		for _, item := range items {
			if err := put(t.Context(), tx, item); err != nil {
				return err
			}
		}
		return nil
	})
}

// read returns what get reads in a read transaction, and its error.
func read[T any](t *testing.T, s store.Store, get func(ctx context.Context, tx store.Tx) (T, error)) (T, error) {
	t.Helper()
	var v T
	err := s.View(t.Context(), func(tx store.Tx) error {
		var err error
		v, err = get(t.Context(), tx)
		return err
	})
	return v, err
}

// wantKind fails unless err wraps kind.
func wantKind(t *testing.T, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("error = %v, want one wrapping %v", err, kind)
	}
}
