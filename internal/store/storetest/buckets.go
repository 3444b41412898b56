package storetest

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/store"
)

func createBuckets(t *testing.T, s store.Store, names ...string) {
	t.Helper()
	update(t, s, func(tx store.Tx) error {
		for i, name := range names {
			if err := tx.Objects().CreateBucket(t.Context(), store.Bucket{Name: name, CreatedAt: at(i)}); err != nil {
				return err
			}
		}
		return nil
	})
}

func testBuckets(t *testing.T, open Opener) {
	t.Run("CreateGetList", func(t *testing.T) {
		s := fresh(t, open)
		createBuckets(t, s, "zeta", "alpha", "mid")
		var got store.Bucket
		var all []store.Bucket
		view(t, s, func(tx store.Tx) error {
			var err error
			if got, err = tx.Objects().GetBucket(t.Context(), "alpha"); err != nil {
				return err
			}
			all, err = tx.Objects().ListBuckets(t.Context())
			return err
		})
		if diff := cmp.Diff(store.Bucket{Name: "alpha", CreatedAt: at(1)}, got); diff != "" {
			t.Errorf("GetBucket (-want +got):\n%s", diff)
		}
		want := []store.Bucket{{Name: "alpha", CreatedAt: at(1)}, {Name: "mid", CreatedAt: at(2)}, {Name: "zeta", CreatedAt: at(0)}}
		if diff := cmp.Diff(want, all); diff != "" {
			t.Errorf("ListBuckets (-want +got):\n%s", diff)
		}
	})

	t.Run("Conflict", func(t *testing.T) {
		s := fresh(t, open)
		createBuckets(t, s, "b")
		err := s.Update(t.Context(), func(tx store.Tx) error {
			return tx.Objects().CreateBucket(t.Context(), store.Bucket{Name: "b", CreatedAt: at(5)})
		})
		wantKind(t, err, errdefs.ErrConflict)
	})

	t.Run("Missing", func(t *testing.T) {
		s := fresh(t, open)
		err := s.View(t.Context(), func(tx store.Tx) error {
			_, err := tx.Objects().GetBucket(t.Context(), "none")
			return err
		})
		wantKind(t, err, errdefs.ErrNotFound)
		err = s.Update(t.Context(), func(tx store.Tx) error { return tx.Objects().DeleteBucket(t.Context(), "none") })
		wantKind(t, err, errdefs.ErrNotFound)
	})

	t.Run("DeleteNonEmpty", func(t *testing.T) {
		s := fresh(t, open)
		createBuckets(t, s, "b")
		putObjects(t, s, newObject("b", "k", "v1", "d1", 1), newObject("b", "k", "v2", "d2", 2))
		err := s.Update(t.Context(), func(tx store.Tx) error { return tx.Objects().DeleteBucket(t.Context(), "b") })
		wantKind(t, err, errdefs.ErrConflict)
		update(t, s, func(tx store.Tx) error {
			if _, err := tx.Objects().DeleteObject(t.Context(), "b", "k"); err != nil {
				return err
			}
			return tx.Objects().DeleteBucket(t.Context(), "b")
		})
		err = s.View(t.Context(), func(tx store.Tx) error {
			_, err := tx.Objects().GetBucket(t.Context(), "b")
			return err
		})
		wantKind(t, err, errdefs.ErrNotFound)
	})
}
