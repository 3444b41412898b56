package storetest

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/store"
)

func newRecord(scope, token string, n int) store.IdempotencyRecord {
	return store.IdempotencyRecord{
		Scope:       scope,
		Token:       token,
		RequestHash: "hash-" + scope + "-" + token,
		StatusCode:  202,
		Body:        []byte(`{"agentRuntimeId":"x"}` + "\x00\xff"),
		CreatedAt:   at(n),
	}
}

func getRecord(t *testing.T, s store.Store, scope, token string) (store.IdempotencyRecord, error) {
	t.Helper()
	return read(t, s, func(ctx context.Context, tx store.Tx) (store.IdempotencyRecord, error) {
		return tx.Idempotency().GetIdempotency(ctx, scope, token)
	})
}

func putRecords(t *testing.T, s store.Store, rs ...store.IdempotencyRecord) {
	t.Helper()
	insert(t, s, rs, func(ctx context.Context, tx store.Tx, r store.IdempotencyRecord) error {
		return tx.Idempotency().PutIdempotency(ctx, r)
	})
}

func testIdempotency(t *testing.T, open Opener) {
	t.Run("PutGet", func(t *testing.T) {
		s := fresh(t, open)
		create := newRecord("CreateAgentRuntime", "tok", 1)
		// The same token under another scope is a separate record.
		other := newRecord("DeleteAgentRuntime", "tok", 2)
		other.StatusCode, other.Body = 200, nil
		putRecords(t, s, create, other)
		for _, want := range []store.IdempotencyRecord{create, other} {
			got, err := getRecord(t, s, want.Scope, want.Token)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got, equateEmpty); diff != "" {
				t.Errorf("GetIdempotency(%s) (-want +got):\n%s", want.Scope, diff)
			}
		}
	})

	t.Run("Conflict", func(t *testing.T) {
		s := fresh(t, open)
		orig := newRecord("CreateAgentRuntime", "tok", 1)
		putRecords(t, s, orig)
		again := orig
		again.RequestHash, again.StatusCode = "different", 500
		err := s.Update(t.Context(), func(tx store.Tx) error {
			return tx.Idempotency().PutIdempotency(t.Context(), again)
		})
		wantKind(t, err, errdefs.ErrConflict)
		got, err := getRecord(t, s, orig.Scope, orig.Token)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(orig, got); diff != "" {
			t.Errorf("original changed (-want +got):\n%s", diff)
		}
	})

	t.Run("Missing", func(t *testing.T) {
		s := fresh(t, open)
		putRecords(t, s, newRecord("CreateAgentRuntime", "tok", 1))
		_, err := getRecord(t, s, "CreateAgentRuntime", "other")
		wantKind(t, err, errdefs.ErrNotFound)
		_, err = getRecord(t, s, "UpdateAgentRuntime", "tok")
		wantKind(t, err, errdefs.ErrNotFound)
	})

	t.Run("DeleteBefore", func(t *testing.T) {
		s := fresh(t, open)
		old1, old2 := newRecord("s", "old1", 0), newRecord("s", "old2", 59)
		edge, young := newRecord("s", "edge", 60), newRecord("s", "young", 120)
		putRecords(t, s, young, old1, edge, old2)
		deleteBefore := func(n int) int {
			var count int
			update(t, s, func(tx store.Tx) error {
				var err error
				count, err = tx.Idempotency().DeleteIdempotencyBefore(t.Context(), at(n))
				return err
			})
			return count
		}
		if n := deleteBefore(60); n != 2 {
			t.Errorf("first DeleteIdempotencyBefore = %d, want 2", n)
		}
		if n := deleteBefore(60); n != 0 {
			t.Errorf("second DeleteIdempotencyBefore = %d, want 0", n)
		}
		for _, r := range []store.IdempotencyRecord{old1, old2} {
			_, err := getRecord(t, s, r.Scope, r.Token)
			wantKind(t, err, errdefs.ErrNotFound)
		}
		// A record created exactly at the cut-off is not "before" it.
		for _, r := range []store.IdempotencyRecord{edge, young} {
			if _, err := getRecord(t, s, r.Scope, r.Token); err != nil {
				t.Errorf("record %s: %v", r.Token, err)
			}
		}
	})
}
