package storetest

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/store"
)

func newEndpoint(runtimeID, name string, n int) catalog.Endpoint {
	return catalog.Endpoint{
		RuntimeID:     runtimeID,
		Name:          name,
		ID:            catalog.NewEndpointID(name),
		LiveVersion:   1,
		TargetVersion: 1,
		Description:   ptr("endpoint " + name),
		Status:        catalog.StatusReady,
		Tags:          map[string]string{"env": name},
		CreatedAt:     at(n),
		UpdatedAt:     at(n),
	}
}

func createEndpoints(t *testing.T, s store.Store, es ...catalog.Endpoint) {
	t.Helper()
	insert(t, s, es, func(ctx context.Context, tx store.Tx, e catalog.Endpoint) error {
		return tx.Runtimes().CreateEndpoint(ctx, e)
	})
}

func getEndpoint(t *testing.T, s store.Store, runtimeID, name string) catalog.Endpoint {
	t.Helper()
	var e catalog.Endpoint
	view(t, s, func(tx store.Tx) error {
		var err error
		e, err = tx.Runtimes().GetEndpoint(t.Context(), runtimeID, name)
		return err
	})
	return e
}

func testEndpoints(t *testing.T, open Opener) {
	t.Run("CreateGet", func(t *testing.T) {
		s := fresh(t, open)
		rt := newRuntime("ep", 0)
		createRuntimes(t, s, rt)
		described := newEndpoint(rt.ID, "described", 1)
		emptyDesc := newEndpoint(rt.ID, "empty", 2)
		emptyDesc.Description = ptr("")
		bare := newEndpoint(rt.ID, catalog.DefaultEndpoint, 3)
		bare.Description, bare.Tags, bare.LiveVersion = nil, nil, 0
		bare.Status, bare.FailureReason = catalog.StatusUpdateFailed, "no ready version"
		createEndpoints(t, s, described, emptyDesc, bare)
		for _, want := range []catalog.Endpoint{described, emptyDesc, bare} {
			if diff := cmp.Diff(want, getEndpoint(t, s, rt.ID, want.Name)); diff != "" {
				t.Errorf("GetEndpoint(%s) (-want +got):\n%s", want.Name, diff)
			}
		}
	})

	t.Run("Conflict", func(t *testing.T) {
		s := fresh(t, open)
		a, b := newRuntime("a", 0), newRuntime("b", 0)
		createRuntimes(t, s, a, b)
		orig := newEndpoint(a.ID, "prod", 1)
		createEndpoints(t, s, orig)
		// The same name under another runtime is fine.
		createEndpoints(t, s, newEndpoint(b.ID, "prod", 2))
		sameID := newEndpoint(b.ID, "staging", 3)
		sameID.ID = orig.ID
		tests := []struct {
			name string
			e    catalog.Endpoint
		}{
			{"DuplicateName", newEndpoint(a.ID, "prod", 4)},
			{"DuplicateID", sameID},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := s.Update(t.Context(), func(tx store.Tx) error {
					return tx.Runtimes().CreateEndpoint(t.Context(), tt.e)
				})
				wantKind(t, err, errdefs.ErrConflict)
			})
		}
		if diff := cmp.Diff(orig, getEndpoint(t, s, a.ID, "prod")); diff != "" {
			t.Errorf("original changed (-want +got):\n%s", diff)
		}
	})

	t.Run("Missing", func(t *testing.T) {
		s := fresh(t, open)
		rt := newRuntime("miss", 0)
		createRuntimes(t, s, rt)
		ghost := newEndpoint(rt.ID, "ghost", 1)
		tests := []struct {
			name string
			fn   func(ctx context.Context, r store.Runtimes) error
		}{
			{"Get", func(ctx context.Context, r store.Runtimes) error {
				_, err := r.GetEndpoint(ctx, rt.ID, ghost.Name)
				return err
			}},
			{"Update", func(ctx context.Context, r store.Runtimes) error { return r.UpdateEndpoint(ctx, ghost) }},
			{"Delete", func(ctx context.Context, r store.Runtimes) error { return r.DeleteEndpoint(ctx, rt.ID, ghost.Name) }},
			{"CreateUnderMissingRuntime", func(ctx context.Context, r store.Runtimes) error {
				return r.CreateEndpoint(ctx, newEndpoint("ghost-0123456789", "x", 1))
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
		e := newEndpoint(rt.ID, "prod", 1)
		createEndpoints(t, s, e)
		changed := e
		changed.ID = "other-0123456789" // immutable: must be ignored
		changed.CreatedAt = at(50)
		changed.LiveVersion, changed.TargetVersion = 2, 3
		changed.Description = nil
		changed.Status, changed.FailureReason = catalog.StatusUpdating, "moving"
		changed.Tags = map[string]string{"x": "y"}
		changed.UpdatedAt = at(60)
		update(t, s, func(tx store.Tx) error { return tx.Runtimes().UpdateEndpoint(t.Context(), changed) })
		want := changed
		want.ID, want.CreatedAt = e.ID, e.CreatedAt
		if diff := cmp.Diff(want, getEndpoint(t, s, rt.ID, "prod")); diff != "" {
			t.Errorf("after UpdateEndpoint (-want +got):\n%s", diff)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		s := fresh(t, open)
		rt := newRuntime("del", 0)
		createRuntimes(t, s, rt)
		createEndpoints(t, s, newEndpoint(rt.ID, "a", 1), newEndpoint(rt.ID, "b", 2))
		update(t, s, func(tx store.Tx) error { return tx.Runtimes().DeleteEndpoint(t.Context(), rt.ID, "a") })
		err := s.View(t.Context(), func(tx store.Tx) error {
			_, err := tx.Runtimes().GetEndpoint(t.Context(), rt.ID, "a")
			return err
		})
		wantKind(t, err, errdefs.ErrNotFound)
		getEndpoint(t, s, rt.ID, "b")
	})

	t.Run("List", func(t *testing.T) {
		s := fresh(t, open)
		rt, other := newRuntime("list", 0), newRuntime("other", 0)
		createRuntimes(t, s, rt, other)
		// Names sort as bytes: upper case before lower case.
		var es []catalog.Endpoint // sorted by name
		for i, name := range []string{"DEFAULT", "Zeta", "alpha", "beta", "gamma"} {
			es = append(es, newEndpoint(rt.ID, name, i))
		}
		createEndpoints(t, s, es[3], es[1], es[4], es[0], es[2])
		createEndpoints(t, s, newEndpoint(other.ID, "alpha", 9))
		tests := []struct {
			name  string
			after string
			limit int
			want  []catalog.Endpoint
		}{
			{"FirstPage", "", 2, es[:2]},
			{"MiddlePage", "Zeta", 2, es[2:4]},
			{"LastPage", "beta", 2, es[4:]},
			{"PastEnd", "gamma", 2, nil},
			{"NoLimit", "", 0, es},
			{"AfterBetween", "alp", 1, es[2:3]},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var got []catalog.Endpoint
				view(t, s, func(tx store.Tx) error {
					var err error
					got, err = tx.Runtimes().ListEndpoints(t.Context(), rt.ID, tt.after, tt.limit)
					return err
				})
				if diff := cmp.Diff(tt.want, got, equateEmpty); diff != "" {
					t.Errorf("ListEndpoints(%q, %d) (-want +got):\n%s", tt.after, tt.limit, diff)
				}
			})
		}
	})
}
