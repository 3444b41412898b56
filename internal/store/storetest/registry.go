package storetest

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/store"
)

const ociManifest = "application/vnd.oci.image.manifest.v1+json"

func newManifest(repo string, c byte, n int) store.Manifest {
	return store.Manifest{
		Repository: repo, Digest: "sha256:" + hex64(c), MediaType: ociManifest,
		Size: int64(n) + 512, CreatedAt: at(n),
	}
}

func listTags(t *testing.T, s store.Store, repo string) ([]string, error) {
	t.Helper()
	return read(t, s, func(ctx context.Context, tx store.Tx) ([]string, error) {
		return tx.Registry().ListTags(ctx, repo)
	})
}

func getTag(t *testing.T, s store.Store, repo, tag string) (string, error) {
	t.Helper()
	return read(t, s, func(ctx context.Context, tx store.Tx) (string, error) {
		return tx.Registry().GetTag(ctx, repo, tag)
	})
}

func putManifests(t *testing.T, s store.Store, ms ...store.Manifest) {
	t.Helper()
	insert(t, s, ms, func(ctx context.Context, tx store.Tx, m store.Manifest) error {
		return tx.Registry().PutManifest(ctx, m)
	})
}

func putTags(t *testing.T, s store.Store, repo, digest string, tags ...string) {
	t.Helper()
	insert(t, s, tags, func(ctx context.Context, tx store.Tx, tag string) error {
		return tx.Registry().PutTag(ctx, repo, tag, digest)
	})
}

func testRegistry(t *testing.T, open Opener) {
	t.Run("Manifests", func(t *testing.T) {
		s := fresh(t, open)
		m := newManifest("agents/hello", 'a', 1)
		putManifests(t, s, m)
		putManifests(t, s, m) // idempotent
		// The same digest in another repository is a separate record.
		putManifests(t, s, newManifest("agents/other", 'a', 2))
		var got store.Manifest
		view(t, s, func(tx store.Tx) error {
			var err error
			got, err = tx.Registry().GetManifest(t.Context(), m.Repository, m.Digest)
			return err
		})
		if diff := cmp.Diff(m, got); diff != "" {
			t.Errorf("GetManifest (-want +got):\n%s", diff)
		}
		err := s.View(t.Context(), func(tx store.Tx) error {
			_, err := tx.Registry().GetManifest(t.Context(), m.Repository, "sha256:"+hex64('f'))
			return err
		})
		wantKind(t, err, errdefs.ErrNotFound)
		err = s.Update(t.Context(), func(tx store.Tx) error {
			return tx.Registry().DeleteManifest(t.Context(), "agents/none", m.Digest)
		})
		wantKind(t, err, errdefs.ErrNotFound)
	})

	t.Run("Tags", func(t *testing.T) {
		s := fresh(t, open)
		const repo = "agents/hello"
		ma, mb := newManifest(repo, 'a', 1), newManifest(repo, 'b', 2)
		putManifests(t, s, ma, mb)
		if tags, err := listTags(t, s, repo); err != nil || len(tags) != 0 {
			t.Errorf("ListTags before tagging = %v, %v; want none", tags, err)
		}
		putTags(t, s, repo, ma.Digest, "v1", "latest", "Z")
		putTags(t, s, repo, mb.Digest, "v2", "latest") // latest moves to b
		tests := []struct{ tag, want string }{
			{"v1", ma.Digest}, {"Z", ma.Digest}, {"v2", mb.Digest}, {"latest", mb.Digest},
		}
		for _, tt := range tests {
			if got, err := getTag(t, s, repo, tt.tag); err != nil || got != tt.want {
				t.Errorf("GetTag(%s) = %q, %v; want %q", tt.tag, got, err, tt.want)
			}
		}
		tags, err := listTags(t, s, repo)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"Z", "latest", "v1", "v2"}, tags); diff != "" {
			t.Errorf("ListTags (-want +got):\n%s", diff)
		}
		_, err = getTag(t, s, repo, "nope")
		wantKind(t, err, errdefs.ErrNotFound)
		_, err = listTags(t, s, "agents/none")
		wantKind(t, err, errdefs.ErrNotFound)
		err = s.Update(t.Context(), func(tx store.Tx) error {
			return tx.Registry().PutTag(t.Context(), repo, "dangling", "sha256:"+hex64('f'))
		})
		wantKind(t, err, errdefs.ErrNotFound)
	})

	t.Run("DeleteManifest", func(t *testing.T) {
		s := fresh(t, open)
		const repo = "agents/hello"
		ma, mb := newManifest(repo, 'a', 1), newManifest(repo, 'b', 2)
		other := newManifest("agents/other", 'a', 3) // same digest as ma
		putManifests(t, s, ma, mb, other)
		putTags(t, s, repo, ma.Digest, "v1", "latest")
		putTags(t, s, repo, mb.Digest, "v2")
		putTags(t, s, other.Repository, other.Digest, "v1")

		update(t, s, func(tx store.Tx) error { return tx.Registry().DeleteManifest(t.Context(), repo, ma.Digest) })
		tags, err := listTags(t, s, repo)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"v2"}, tags); diff != "" {
			t.Errorf("ListTags after delete (-want +got):\n%s", diff)
		}
		if got, err := getTag(t, s, other.Repository, "v1"); err != nil || got != other.Digest {
			t.Errorf("other repository's tag = %q, %v; want %q", got, err, other.Digest)
		}

		update(t, s, func(tx store.Tx) error { return tx.Registry().DeleteManifest(t.Context(), repo, mb.Digest) })
		_, err = listTags(t, s, repo)
		wantKind(t, err, errdefs.ErrNotFound)
	})

	t.Run("ListRepositories", func(t *testing.T) {
		s := fresh(t, open)
		var repos []string
		list := func() []string {
			view(t, s, func(tx store.Tx) error {
				var err error
				repos, err = tx.Registry().ListRepositories(t.Context())
				return err
			})
			return repos
		}
		if got := list(); len(got) != 0 {
			t.Errorf("ListRepositories on an empty store = %v", got)
		}
		putManifests(t, s, newManifest("zeta", 'a', 1), newManifest("alpha/x", 'a', 2),
			newManifest("alpha/x", 'b', 3), newManifest("Beta", 'c', 4))
		if diff := cmp.Diff([]string{"Beta", "alpha/x", "zeta"}, list()); diff != "" {
			t.Errorf("ListRepositories (-want +got):\n%s", diff)
		}
		update(t, s, func(tx store.Tx) error {
			return tx.Registry().DeleteManifest(t.Context(), "zeta", "sha256:"+hex64('a'))
		})
		if diff := cmp.Diff([]string{"Beta", "alpha/x"}, list()); diff != "" {
			t.Errorf("ListRepositories after delete (-want +got):\n%s", diff)
		}
	})
}
