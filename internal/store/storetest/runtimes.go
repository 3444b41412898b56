package storetest

import (
	"context"
	"errors"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/store"
)

func newRuntime(name string, n int) catalog.Runtime {
	return catalog.Runtime{
		ID:            catalog.NewRuntimeID(name),
		Name:          name,
		LatestVersion: 1,
		Tags:          map[string]string{"team": "agents", "n": name},
		CreatedAt:     at(n),
		UpdatedAt:     at(n),
	}
}

func createRuntimes(t *testing.T, s store.Store, rts ...catalog.Runtime) {
	t.Helper()
	insert(t, s, rts, func(ctx context.Context, tx store.Tx, rt catalog.Runtime) error {
		return tx.Runtimes().CreateRuntime(ctx, rt)
	})
}

func getRuntime(t *testing.T, s store.Store, id string) (catalog.Runtime, error) {
	t.Helper()
	return read(t, s, func(ctx context.Context, tx store.Tx) (catalog.Runtime, error) {
		return tx.Runtimes().GetRuntime(ctx, id)
	})
}

func testRuntimes(t *testing.T, open Opener) {
	t.Run("CreateGet", func(t *testing.T) {
		s := fresh(t, open)
		tagged := newRuntime("tagged", 1)
		untagged := newRuntime("untagged", 2)
		untagged.Tags = nil
		createRuntimes(t, s, tagged, untagged)
		for _, want := range []catalog.Runtime{tagged, untagged} {
			got, err := getRuntime(t, s, want.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("GetRuntime(%s) mismatch (-want +got):\n%s", want.ID, diff)
			}
		}
	})

	t.Run("CreateConflict", func(t *testing.T) {
		s := fresh(t, open)
		orig := newRuntime("orig", 1)
		createRuntimes(t, s, orig)
		sameID := newRuntime("other", 2)
		sameID.ID = orig.ID
		tests := []struct {
			name string
			rt   catalog.Runtime
		}{
			{"DuplicateID", sameID},
			{"DuplicateName", newRuntime("orig", 3)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := s.Update(t.Context(), func(tx store.Tx) error {
					return tx.Runtimes().CreateRuntime(t.Context(), tt.rt)
				})
				wantKind(t, err, errdefs.ErrConflict)
				got, err := getRuntime(t, s, orig.ID)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(orig, got); diff != "" {
					t.Errorf("original changed (-want +got):\n%s", diff)
				}
			})
		}
	})

	t.Run("Missing", func(t *testing.T) {
		s := fresh(t, open)
		ghost := newRuntime("ghost", 1)
		tests := []struct {
			name string
			fn   func(ctx context.Context, r store.Runtimes) error
		}{
			{"Get", func(ctx context.Context, r store.Runtimes) error {
				_, err := r.GetRuntime(ctx, ghost.ID)
				return err
			}},
			{"Update", func(ctx context.Context, r store.Runtimes) error { return r.UpdateRuntime(ctx, ghost) }},
			{"Delete", func(ctx context.Context, r store.Runtimes) error { return r.DeleteRuntime(ctx, ghost.ID) }},
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
		rt := newRuntime("upd", 1)
		createRuntimes(t, s, rt)
		changed := rt
		changed.Name = "renamed" // immutable: must be ignored
		changed.CreatedAt = at(50)
		changed.LatestVersion = 7
		changed.Tags = map[string]string{"new": "tag"}
		changed.UpdatedAt = at(99)
		update(t, s, func(tx store.Tx) error { return tx.Runtimes().UpdateRuntime(t.Context(), changed) })
		want := rt
		want.LatestVersion, want.Tags, want.UpdatedAt = 7, changed.Tags, changed.UpdatedAt
		got, err := getRuntime(t, s, rt.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("after UpdateRuntime (-want +got):\n%s", diff)
		}
	})

	t.Run("DeleteCascades", func(t *testing.T) { testDeleteCascades(t, open) })
	t.Run("List", func(t *testing.T) { testListRuntimes(t, open) })
}

func testDeleteCascades(t *testing.T, open Opener) {
	s := fresh(t, open)
	doomed, kept := newRuntime("doomed", 1), newRuntime("kept", 2)
	createRuntimes(t, s, doomed, kept)
	for _, rt := range []catalog.Runtime{doomed, kept} {
		createVersions(t, s, newVersion(rt.ID, 1, 1), newVersion(rt.ID, 2, 2))
		createEndpoints(t, s, newEndpoint(rt.ID, catalog.DefaultEndpoint, 1), newEndpoint(rt.ID, "prod", 2))
	}
	update(t, s, func(tx store.Tx) error { return tx.Runtimes().DeleteRuntime(t.Context(), doomed.ID) })

	view(t, s, func(tx store.Tx) error {
		ctx, r := t.Context(), tx.Runtimes()
		_, err := r.GetRuntime(ctx, doomed.ID)
		wantKind(t, err, errdefs.ErrNotFound)
		_, err = r.GetVersion(ctx, doomed.ID, 1)
		wantKind(t, err, errdefs.ErrNotFound)
		_, err = r.GetEndpoint(ctx, doomed.ID, "prod")
		wantKind(t, err, errdefs.ErrNotFound)
		vs, err := r.ListVersions(ctx, doomed.ID, 0, 0)
		if err != nil || len(vs) != 0 {
			t.Errorf("ListVersions of deleted runtime = %d versions, %v; want none", len(vs), err)
		}
		es, err := r.ListEndpoints(ctx, doomed.ID, "", 0)
		if err != nil || len(es) != 0 {
			t.Errorf("ListEndpoints of deleted runtime = %d endpoints, %v; want none", len(es), err)
		}
		vs, err = r.ListVersions(ctx, kept.ID, 0, 0)
		if err != nil || len(vs) != 2 {
			t.Errorf("ListVersions of kept runtime = %d versions, %v; want 2", len(vs), err)
		}
		es, err = r.ListEndpoints(ctx, kept.ID, "", 0)
		if err != nil || len(es) != 2 {
			t.Errorf("ListEndpoints of kept runtime = %d endpoints, %v; want 2", len(es), err)
		}
		return nil
	})
	// The name is free again.
	createRuntimes(t, s, newRuntime("doomed", 3))
}

func testListRuntimes(t *testing.T, open Opener) {
	s := fresh(t, open)
	var all []catalog.Runtime
	for i, name := range []string{"eve", "bob", "dan", "alice", "carol"} {
		all = append(all, newRuntime(name, i))
	}
	createRuntimes(t, s, all...)
	sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })

	list := func(afterID string, limit int) []catalog.Runtime {
		var got []catalog.Runtime
		view(t, s, func(tx store.Tx) error {
			var err error
			got, err = tx.Runtimes().ListRuntimes(t.Context(), afterID, limit)
			return err
		})
		return got
	}

	t.Run("Pages", func(t *testing.T) {
		var got []catalog.Runtime
		after, pages := "", 0
		for {
			page := list(after, 2)
			if len(page) > 2 {
				t.Fatalf("page of %d runtimes, limit 2", len(page))
			}
			if len(page) == 0 {
				break
			}
			pages++
			got = append(got, page...)
			after = page[len(page)-1].ID
		}
		if pages != 3 {
			t.Errorf("5 runtimes by 2 took %d pages, want 3", pages)
		}
		if diff := cmp.Diff(all, got); diff != "" {
			t.Errorf("paged list (-want +got):\n%s", diff)
		}
	})

	tests := []struct {
		name    string
		afterID string
		limit   int
		want    []catalog.Runtime
	}{
		{"ExactLimit", "", 5, all},
		{"LimitAboveCount", "", 100, all},
		{"NoLimit", "", 0, all},
		{"AfterFirst", all[0].ID, 2, all[1:3]},
		{"AfterLast", all[4].ID, 10, nil},
		{"AfterBetween", all[2].ID[:len(all[2].ID)-1], 1, all[2:3]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := list(tt.afterID, tt.limit)
			if diff := cmp.Diff(tt.want, got, equateEmpty); diff != "" {
				t.Errorf("ListRuntimes(%q, %d) (-want +got):\n%s", tt.afterID, tt.limit, diff)
			}
		})
	}
}

// errStop is returned by fn to force a rollback.
var errStop = errors.New("storetest: stop")
