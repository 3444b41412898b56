package storetest

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/store"
)

func newObject(bucket, key, versionID, digest string, n int) store.Object {
	return store.Object{
		Bucket:      bucket,
		Key:         key,
		VersionID:   versionID,
		Digest:      "sha256:" + digest,
		Size:        int64(len(key)) * 1000,
		ETag:        `"` + digest + `"`,
		ContentType: "application/zip",
		Metadata:    map[string]string{"origin": key},
		CreatedAt:   at(n),
	}
}

func putObjects(t *testing.T, s store.Store, obs ...store.Object) {
	t.Helper()
	insert(t, s, obs, func(ctx context.Context, tx store.Tx, ob store.Object) error {
		return tx.Objects().PutObject(ctx, ob)
	})
}

func getObject(t *testing.T, s store.Store, bucket, key, versionID string) (store.Object, error) {
	t.Helper()
	return read(t, s, func(ctx context.Context, tx store.Tx) (store.Object, error) {
		return tx.Objects().GetObject(ctx, bucket, key, versionID)
	})
}

func deleteObject(t *testing.T, s store.Store, bucket, key string) []string {
	t.Helper()
	var digests []string
	update(t, s, func(tx store.Tx) error {
		var err error
		digests, err = tx.Objects().DeleteObject(t.Context(), bucket, key)
		return err
	})
	slices.Sort(digests)
	return slices.Compact(digests)
}

func digestReferenced(t *testing.T, s store.Store, digest string) bool {
	t.Helper()
	var ok bool
	view(t, s, func(tx store.Tx) error {
		var err error
		ok, err = tx.Objects().DigestReferenced(t.Context(), digest)
		return err
	})
	return ok
}

func testObjects(t *testing.T, open Opener) {
	t.Run("Versions", func(t *testing.T) {
		s := fresh(t, open)
		createBuckets(t, s, "b")
		v1 := newObject("b", "k", "v1", "d1", 1)
		v2 := newObject("b", "k", "v2", "d2", 2)
		v2.Metadata, v2.ContentType = nil, ""
		putObjects(t, s, v1)
		putObjects(t, s, v2)
		tests := []struct {
			name, versionID string
			want            store.Object
		}{
			{"Current", "", v2},
			{"Old", "v1", v1},
			{"NewByID", "v2", v2},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := getObject(t, s, "b", "k", tt.versionID)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("GetObject(%q) (-want +got):\n%s", tt.versionID, diff)
				}
			})
		}
		// A third version becomes current in turn.
		v3 := newObject("b", "k", "v3", "d3", 3)
		putObjects(t, s, v3)
		if got, err := getObject(t, s, "b", "k", ""); err != nil || got.VersionID != "v3" {
			t.Errorf("current after third put = %q, %v; want v3", got.VersionID, err)
		}
	})

	t.Run("Errors", func(t *testing.T) {
		s := fresh(t, open)
		createBuckets(t, s, "b")
		putObjects(t, s, newObject("b", "k", "v1", "d1", 1))
		tests := []struct {
			name string
			fn   func(o store.Objects) error
			kind error
		}{
			{"PutMissingBucket", func(o store.Objects) error {
				return o.PutObject(t.Context(), newObject("none", "k", "v1", "d1", 1))
			}, errdefs.ErrNotFound},
			{"PutDuplicateVersion", func(o store.Objects) error {
				return o.PutObject(t.Context(), newObject("b", "k", "v1", "d9", 9))
			}, errdefs.ErrConflict},
			{"GetMissingKey", func(o store.Objects) error {
				_, err := o.GetObject(t.Context(), "b", "nope", "")
				return err
			}, errdefs.ErrNotFound},
			{"GetMissingVersion", func(o store.Objects) error {
				_, err := o.GetObject(t.Context(), "b", "k", "v9")
				return err
			}, errdefs.ErrNotFound},
			{"GetMissingBucket", func(o store.Objects) error {
				_, err := o.GetObject(t.Context(), "none", "k", "")
				return err
			}, errdefs.ErrNotFound},
			{"ListMissingBucket", func(o store.Objects) error {
				_, err := o.ListObjects(t.Context(), "none", "", "", 0)
				return err
			}, errdefs.ErrNotFound},
			{"DeleteMissingBucket", func(o store.Objects) error {
				_, err := o.DeleteObject(t.Context(), "none", "k")
				return err
			}, errdefs.ErrNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := s.Update(t.Context(), func(tx store.Tx) error { return tt.fn(tx.Objects()) })
				wantKind(t, err, tt.kind)
			})
		}
		if got, err := getObject(t, s, "b", "k", ""); err != nil || got.Digest != "sha256:d1" {
			t.Errorf("current after failed puts = %q, %v; want sha256:d1", got.Digest, err)
		}
	})

	t.Run("List", func(t *testing.T) { testListObjects(t, open) })

	t.Run("Delete", func(t *testing.T) {
		s := fresh(t, open)
		createBuckets(t, s, "b", "c")
		// d1 is shared by two versions of k and by another key; d0 lives in another bucket.
		putObjects(t, s,
			newObject("b", "k", "v1", "d1", 1), newObject("b", "k", "v2", "d2", 2),
			newObject("b", "k", "v3", "d1", 3), newObject("b", "other", "v1", "d1", 4),
			newObject("c", "k", "v1", "d0", 5))
		if diff := cmp.Diff([]string{"sha256:d1", "sha256:d2"}, deleteObject(t, s, "b", "k")); diff != "" {
			t.Errorf("DeleteObject digests (-want +got):\n%s", diff)
		}
		for _, v := range []string{"", "v1", "v2", "v3"} {
			_, err := getObject(t, s, "b", "k", v)
			wantKind(t, err, errdefs.ErrNotFound)
		}
		if got := deleteObject(t, s, "b", "k"); len(got) != 0 {
			t.Errorf("deleting a deleted key returned %v, want no digests", got)
		}
		if _, err := getObject(t, s, "c", "k", ""); err != nil {
			t.Errorf("same key in another bucket: %v", err)
		}
	})

	t.Run("DigestReferenced", func(t *testing.T) {
		s := fresh(t, open)
		createBuckets(t, s, "b")
		// d1 is referenced only by a non-current version of a, and by b.
		putObjects(t, s, newObject("b", "a", "v1", "d1", 1), newObject("b", "a", "v2", "d2", 2),
			newObject("b", "b", "v1", "d1", 3))
		steps := []struct {
			deleteKey  string
			referenced map[string]bool
		}{
			{"", map[string]bool{"d1": true, "d2": true, "d9": false}},
			{"b", map[string]bool{"d1": true, "d2": true}},
			{"a", map[string]bool{"d1": false, "d2": false}},
		}
		for _, step := range steps {
			if step.deleteKey != "" {
				deleteObject(t, s, "b", step.deleteKey)
			}
			for d, want := range step.referenced {
				if got := digestReferenced(t, s, "sha256:"+d); got != want {
					t.Errorf("after deleting %q: DigestReferenced(%s) = %v, want %v", step.deleteKey, d, got, want)
				}
			}
		}
	})
}

// awkwardKeys would trip a LIKE-based prefix match ('%', '_', '\') or a collation that is
// not byte order (case, accents, CJK).
var awkwardKeys = []string{
	"a", "a%b", "a%", "a_b", "aXb", "ab", "a/b/c", "a/b/d", "a/bc", "a\\b", "A/upper",
	"é/accent", "e/plain", "日本/語", "日本語", "%", "_", "z",
}

func testListObjects(t *testing.T, open Opener) {
	s := fresh(t, open)
	createBuckets(t, s, "b", "other")
	var obs []store.Object
	for i, k := range awkwardKeys {
		obs = append(obs, newObject("b", k, "v1", "old", i))
	}
	putObjects(t, s, obs...)
	// A second version of every key: listing shows only the current one.
	current := map[string]store.Object{}
	for i, k := range awkwardKeys {
		ob := newObject("b", k, "v2", "new", 100+i)
		current[k] = ob
		putObjects(t, s, ob)
	}
	putObjects(t, s, newObject("other", "a/b/c", "v1", "x", 0))

	list := func(t *testing.T, prefix, startAfter string, limit int) []store.Object {
		var got []store.Object
		view(t, s, func(tx store.Tx) error {
			var err error
			got, err = tx.Objects().ListObjects(t.Context(), "b", prefix, startAfter, limit)
			return err
		})
		return got
	}
	// expect computes the answer independently: Go compares strings as bytes.
	expect := func(prefix, startAfter string) []store.Object {
		var keys []string
		for _, k := range awkwardKeys {
			if strings.HasPrefix(k, prefix) && k > startAfter {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		var want []store.Object
		for _, k := range keys {
			want = append(want, current[k])
		}
		return want
	}

	tests := []struct{ name, prefix, startAfter string }{
		{"All", "", ""},
		{"Percent", "a%", ""},
		{"Underscore", "a_", ""},
		{"Backslash", "a\\", ""},
		{"Slash", "a/b/", ""},
		{"SlashNoTrailing", "a/b", ""},
		{"BareA", "a", ""},
		{"Accent", "é", ""},
		{"CJK", "日本", ""},
		{"LoneWildcard", "%", ""},
		{"NoMatch", "q", ""},
		{"StartAfterInPrefix", "a/b/", "a/b/c"},
		{"StartAfterBeforePrefix", "a/", "A"},
		{"StartAfterPastPrefix", "a/", "a/z"},
		{"StartAfterOnly", "", "e"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := expect(tt.prefix, tt.startAfter)
			if tt.name == "NoMatch" || tt.name == "StartAfterPastPrefix" {
				if len(want) != 0 {
					t.Fatalf("test data changed: %d keys expected", len(want))
				}
			} else if len(want) == 0 {
				t.Fatalf("test data changed: no key expected for %q", tt.prefix)
			}
			if diff := cmp.Diff(want, list(t, tt.prefix, tt.startAfter, 0), equateEmpty); diff != "" {
				t.Errorf("ListObjects(%q, %q) (-want +got):\n%s", tt.prefix, tt.startAfter, diff)
			}
		})
	}

	t.Run("Pages", func(t *testing.T) {
		for _, prefix := range []string{"", "a", "日本"} {
			var got []store.Object
			after := ""
			for {
				page := list(t, prefix, after, 3)
				if len(page) > 3 {
					t.Fatalf("page of %d objects, limit 3", len(page))
				}
				if len(page) == 0 {
					break
				}
				got = append(got, page...)
				after = page[len(page)-1].Key
			}
			if diff := cmp.Diff(expect(prefix, ""), got); diff != "" {
				t.Errorf("paged ListObjects(%q) (-want +got):\n%s", prefix, diff)
			}
		}
	})
}
