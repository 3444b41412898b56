package storetest

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/store"
)

func newVersion(runtimeID string, number, n int) catalog.Version {
	return catalog.Version{
		RuntimeID: runtimeID,
		Number:    number,
		Config:    sparseConfig(),
		Status:    catalog.StatusCreating,
		CreatedAt: at(n),
		UpdatedAt: at(n),
	}
}

func createVersions(t *testing.T, s store.Store, vs ...catalog.Version) {
	t.Helper()
	insert(t, s, vs, func(ctx context.Context, tx store.Tx, v catalog.Version) error {
		return tx.Runtimes().CreateVersion(ctx, v)
	})
}

func getVersion(t *testing.T, s store.Store, runtimeID string, number int) catalog.Version {
	t.Helper()
	var v catalog.Version
	view(t, s, func(tx store.Tx) error {
		var err error
		v, err = tx.Runtimes().GetVersion(t.Context(), runtimeID, number)
		return err
	})
	return v
}

func testVersions(t *testing.T, open Opener) {
	t.Run("ConfigRoundTrip", func(t *testing.T) {
		checkEverySet(t, fullConfig())
		s := fresh(t, open)
		rt := newRuntime("cfg", 0)
		createRuntimes(t, s, rt)
		full := newVersion(rt.ID, 1, 1)
		full.Config = fullConfig()
		full.Status = catalog.StatusReady
		full.FailureReason = "none at all"
		full.Prepared = &catalog.PreparedArtifact{
			Kind: catalog.ArtifactImage, Digest: "sha256:" + hex64('b'),
			Ref: "hello@sha256:" + hex64('b'), Path: "/var/lib/berth/rootfs/b", Size: 1 << 40,
		}
		sparse := newVersion(rt.ID, 2, 2)
		createVersions(t, s, full, sparse)
		for _, want := range []catalog.Version{full, sparse} {
			got := getVersion(t, s, rt.ID, want.Number)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("GetVersion(%d) (-want +got):\n%s", want.Number, diff)
			}
		}
	})

	t.Run("Conflict", func(t *testing.T) {
		s := fresh(t, open)
		rt := newRuntime("dup", 0)
		createRuntimes(t, s, rt)
		createVersions(t, s, newVersion(rt.ID, 1, 1))
		err := s.Update(t.Context(), func(tx store.Tx) error {
			return tx.Runtimes().CreateVersion(t.Context(), newVersion(rt.ID, 1, 2))
		})
		wantKind(t, err, errdefs.ErrConflict)
	})

	t.Run("Missing", func(t *testing.T) {
		s := fresh(t, open)
		rt := newRuntime("miss", 0)
		createRuntimes(t, s, rt)
		tests := []struct {
			name string
			fn   func(ctx context.Context, r store.Runtimes) error
		}{
			{"Get", func(ctx context.Context, r store.Runtimes) error {
				_, err := r.GetVersion(ctx, rt.ID, 1)
				return err
			}},
			{"Update", func(ctx context.Context, r store.Runtimes) error {
				return r.UpdateVersion(ctx, newVersion(rt.ID, 1, 1))
			}},
			{"Delete", func(ctx context.Context, r store.Runtimes) error { return r.DeleteVersion(ctx, rt.ID, 1) }},
			{"CreateUnderMissingRuntime", func(ctx context.Context, r store.Runtimes) error {
				return r.CreateVersion(ctx, newVersion("ghost-0123456789", 1, 1))
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := s.Update(t.Context(), func(tx store.Tx) error { return tt.fn(t.Context(), tx.Runtimes()) })
				wantKind(t, err, errdefs.ErrNotFound)
			})
		}
	})

	t.Run("Update", func(t *testing.T) {
		s := fresh(t, open)
		rt := newRuntime("upd", 0)
		createRuntimes(t, s, rt)
		v := newVersion(rt.ID, 1, 1)
		createVersions(t, s, v)
		changed := v
		changed.Config = fullConfig() // immutable: must be ignored
		changed.CreatedAt = at(50)
		changed.Status = catalog.StatusCreateFailed
		changed.FailureReason = "pull failed"
		changed.Prepared = &catalog.PreparedArtifact{Kind: catalog.ArtifactCode, Digest: "sha256:" + hex64('c')}
		changed.UpdatedAt = at(60)
		update(t, s, func(tx store.Tx) error { return tx.Runtimes().UpdateVersion(t.Context(), changed) })
		want := v
		want.Status, want.FailureReason, want.Prepared, want.UpdatedAt =
			changed.Status, changed.FailureReason, changed.Prepared, changed.UpdatedAt
		if diff := cmp.Diff(want, getVersion(t, s, rt.ID, 1)); diff != "" {
			t.Errorf("after UpdateVersion (-want +got):\n%s", diff)
		}
		// Prepared can be cleared again.
		changed.Prepared = nil
		update(t, s, func(tx store.Tx) error { return tx.Runtimes().UpdateVersion(t.Context(), changed) })
		if got := getVersion(t, s, rt.ID, 1); got.Prepared != nil {
			t.Errorf("Prepared = %+v after clearing, want nil", got.Prepared)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		s := fresh(t, open)
		rt := newRuntime("del", 0)
		createRuntimes(t, s, rt)
		createVersions(t, s, newVersion(rt.ID, 1, 1), newVersion(rt.ID, 2, 2))
		update(t, s, func(tx store.Tx) error { return tx.Runtimes().DeleteVersion(t.Context(), rt.ID, 1) })
		err := s.View(t.Context(), func(tx store.Tx) error {
			_, err := tx.Runtimes().GetVersion(t.Context(), rt.ID, 1)
			return err
		})
		wantKind(t, err, errdefs.ErrNotFound)
		getVersion(t, s, rt.ID, 2)
	})

	t.Run("List", func(t *testing.T) { testListVersions(t, open) })
	t.Run("Pending", func(t *testing.T) { testPendingVersions(t, open) })
}

func testListVersions(t *testing.T, open Opener) {
	s := fresh(t, open)
	rt, other := newRuntime("list", 0), newRuntime("other", 0)
	createRuntimes(t, s, rt, other)
	var vs []catalog.Version // vs[i] is number i+1
	for n := 1; n <= 5; n++ {
		vs = append(vs, newVersion(rt.ID, n, n))
	}
	createVersions(t, s, vs...)
	createVersions(t, s, newVersion(other.ID, 1, 1), newVersion(other.ID, 9, 9))

	tests := []struct {
		name          string
		before, limit int
		want          []catalog.Version
	}{
		{"FirstPage", 0, 2, []catalog.Version{vs[4], vs[3]}},
		{"SecondPage", 4, 2, []catalog.Version{vs[2], vs[1]}},
		{"LastPage", 2, 2, []catalog.Version{vs[0]}},
		{"PastEnd", 1, 2, nil},
		{"NoLimit", 0, 0, []catalog.Version{vs[4], vs[3], vs[2], vs[1], vs[0]}},
		{"BeforeAboveLatest", 100, 3, []catalog.Version{vs[4], vs[3], vs[2]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []catalog.Version
			view(t, s, func(tx store.Tx) error {
				var err error
				got, err = tx.Runtimes().ListVersions(t.Context(), rt.ID, tt.before, tt.limit)
				return err
			})
			if diff := cmp.Diff(tt.want, got, equateEmpty); diff != "" {
				t.Errorf("ListVersions(before=%d, limit=%d) (-want +got):\n%s", tt.before, tt.limit, diff)
			}
		})
	}
}

func testPendingVersions(t *testing.T, open Opener) {
	s := fresh(t, open)
	a, b := newRuntime("a", 0), newRuntime("b", 0)
	createRuntimes(t, s, a, b)
	mk := func(rt catalog.Runtime, number, n int, st catalog.Status) catalog.Version {
		v := newVersion(rt.ID, number, n)
		v.Status = st
		return v
	}
	// Inserted out of creation order, so the result order must come from CreatedAt.
	a1 := mk(a, 1, 10, catalog.StatusReady)
	a2 := mk(a, 2, 40, catalog.StatusUpdating)
	b1 := mk(b, 1, 20, catalog.StatusCreating)
	b2 := mk(b, 2, 30, catalog.StatusCreateFailed)
	b3 := mk(b, 3, 5, catalog.StatusUpdating)
	a3 := mk(a, 3, 50, catalog.StatusUpdateFailed)
	createVersions(t, s, a1, a2, b1, b2, b3, a3)

	var got []catalog.Version
	view(t, s, func(tx store.Tx) error {
		var err error
		got, err = tx.Runtimes().PendingVersions(t.Context())
		return err
	})
	if diff := cmp.Diff([]catalog.Version{b3, b1, a2}, got); diff != "" {
		t.Errorf("PendingVersions (-want +got):\n%s", diff)
	}
}
