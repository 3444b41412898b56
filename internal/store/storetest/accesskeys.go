package storetest

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/store"
)

func newAccessKey(id string, n int) store.AccessKey {
	return store.AccessKey{
		ID:              id,
		SecretEncrypted: []byte("sealed\x00" + id + "\xff"),
		Account:         "000000000000",
		Description:     "key " + id,
		CreatedAt:       at(n),
	}
}

func listAccessKeys(t *testing.T, s store.Store) []store.AccessKey {
	t.Helper()
	var ks []store.AccessKey
	view(t, s, func(tx store.Tx) error {
		var err error
		ks, err = tx.AccessKeys().ListAccessKeys(t.Context())
		return err
	})
	return ks
}

func testAccessKeys(t *testing.T, open Opener) {
	t.Run("CreateGetList", func(t *testing.T) {
		s := fresh(t, open)
		// Created out of id order: the list follows CreatedAt.
		k1, k2, k3 := newAccessKey("AKIAZZZ", 1), newAccessKey("AKIAAAA", 2), newAccessKey("AKIAMMM", 3)
		k2.Disabled = true
		update(t, s, func(tx store.Tx) error {
			for _, k := range []store.AccessKey{k3, k1, k2} {
				if err := tx.AccessKeys().CreateAccessKey(t.Context(), k); err != nil {
					return err
				}
			}
			return nil
		})
		var got store.AccessKey
		view(t, s, func(tx store.Tx) error {
			var err error
			got, err = tx.AccessKeys().GetAccessKey(t.Context(), k2.ID)
			return err
		})
		if diff := cmp.Diff(k2, got); diff != "" {
			t.Errorf("GetAccessKey (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]store.AccessKey{k1, k2, k3}, listAccessKeys(t, s)); diff != "" {
			t.Errorf("ListAccessKeys (-want +got):\n%s", diff)
		}
	})

	t.Run("Conflict", func(t *testing.T) {
		s := fresh(t, open)
		k := newAccessKey("AKIADUP", 1)
		update(t, s, func(tx store.Tx) error { return tx.AccessKeys().CreateAccessKey(t.Context(), k) })
		dup := newAccessKey("AKIADUP", 2)
		dup.Account = "111111111111"
		err := s.Update(t.Context(), func(tx store.Tx) error { return tx.AccessKeys().CreateAccessKey(t.Context(), dup) })
		wantKind(t, err, errdefs.ErrConflict)
		if diff := cmp.Diff([]store.AccessKey{k}, listAccessKeys(t, s)); diff != "" {
			t.Errorf("after conflict (-want +got):\n%s", diff)
		}
	})

	t.Run("Missing", func(t *testing.T) {
		s := fresh(t, open)
		err := s.View(t.Context(), func(tx store.Tx) error {
			_, err := tx.AccessKeys().GetAccessKey(t.Context(), "AKIANONE")
			return err
		})
		wantKind(t, err, errdefs.ErrNotFound)
		err = s.Update(t.Context(), func(tx store.Tx) error {
			return tx.AccessKeys().UpdateAccessKey(t.Context(), newAccessKey("AKIANONE", 1))
		})
		wantKind(t, err, errdefs.ErrNotFound)
	})

	t.Run("Update", func(t *testing.T) {
		s := fresh(t, open)
		k := newAccessKey("AKIAUPD", 1)
		update(t, s, func(tx store.Tx) error { return tx.AccessKeys().CreateAccessKey(t.Context(), k) })
		changed := k
		changed.Description, changed.Disabled = "rotated out", true
		// Immutable fields: must be ignored.
		changed.SecretEncrypted, changed.Account, changed.CreatedAt = []byte("other"), "111111111111", at(9)
		update(t, s, func(tx store.Tx) error { return tx.AccessKeys().UpdateAccessKey(t.Context(), changed) })
		want := k
		want.Description, want.Disabled = changed.Description, true
		if diff := cmp.Diff([]store.AccessKey{want}, listAccessKeys(t, s)); diff != "" {
			t.Errorf("after UpdateAccessKey (-want +got):\n%s", diff)
		}
	})
}
