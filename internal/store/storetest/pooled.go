package storetest

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/store"
)

func listPooled(t *testing.T, s store.Store) []store.PooledSandbox {
	t.Helper()
	var ps []store.PooledSandbox
	view(t, s, func(tx store.Tx) error {
		var err error
		ps, err = tx.Sessions().ListPooledSandboxes(t.Context())
		return err
	})
	return ps
}

// testPooledSandboxes checks the pooled sandbox records: put inserts and replaces, the list
// is oldest first and returns the state bytes as given, delete removes one (a missing one
// is ErrNotFound), and a hand-over (delete the pooled record, create the session record) is
// one transaction.
func testPooledSandboxes(t *testing.T, open Opener) {
	s := fresh(t, open)
	if got := listPooled(t, s); len(got) != 0 {
		t.Fatalf("empty store lists %d pooled sandboxes", len(got))
	}
	starting := store.PooledSandbox{ID: sessionRecordID(2), RuntimeID: "rt-0123456789", Endpoint: catalog.DefaultEndpoint,
		Version: 3, Driver: "linuxns", CreatedAt: at(2)}
	full := store.PooledSandbox{ID: sessionRecordID(1), RuntimeID: "rt-0123456789", Endpoint: "prod",
		Version: 2, Driver: "linuxns", SandboxState: json.RawMessage("{\"pid\": 42,\n \"dir\":\"/run/\u00e9\"}"), CreatedAt: at(1)}
	checkFieldsSet(t, full)
	update(t, s, func(tx store.Tx) error {
		if err := tx.Sessions().PutPooledSandbox(t.Context(), starting); err != nil {
			return err
		}
		return tx.Sessions().PutPooledSandbox(t.Context(), full)
	})
	if diff := cmp.Diff([]store.PooledSandbox{full, starting}, listPooled(t, s)); diff != "" {
		t.Errorf("ListPooledSandboxes (-want +got):\n%s", diff)
	}

	// Put again once the sandbox started: the record is replaced.
	started := starting
	started.SandboxState = json.RawMessage(`{"pid":7}`)
	update(t, s, func(tx store.Tx) error { return tx.Sessions().PutPooledSandbox(t.Context(), started) })
	if diff := cmp.Diff([]store.PooledSandbox{full, started}, listPooled(t, s)); diff != "" {
		t.Errorf("ListPooledSandboxes after replacing (-want +got):\n%s", diff)
	}

	// Hand-over: a failing transaction keeps the pooled record and creates no session.
	rec := newSession(full.RuntimeID, "s", 5)
	rec.SandboxID, rec.SandboxState = full.ID, full.SandboxState
	err := s.Update(t.Context(), func(tx store.Tx) error {
		if err := tx.Sessions().DeletePooledSandbox(t.Context(), full.ID); err != nil {
			return err
		}
		if err := tx.Sessions().CreateSession(t.Context(), rec); err != nil {
			return err
		}
		return errdefs.ErrConflict // abort
	})
	wantKind(t, err, errdefs.ErrConflict)
	if got := listPooled(t, s); len(got) != 2 {
		t.Fatalf("%d pooled sandboxes after an aborted hand-over, want 2", len(got))
	}
	if _, err := getSession(t, s, rec.ID); err == nil {
		t.Fatal("an aborted hand-over created the session record")
	}
	update(t, s, func(tx store.Tx) error {
		if err := tx.Sessions().DeletePooledSandbox(t.Context(), full.ID); err != nil {
			return err
		}
		return tx.Sessions().CreateSession(t.Context(), rec)
	})
	if diff := cmp.Diff([]store.PooledSandbox{started}, listPooled(t, s)); diff != "" {
		t.Errorf("ListPooledSandboxes after a hand-over (-want +got):\n%s", diff)
	}
	wantSession(t, s, rec)

	err = s.Update(t.Context(), func(tx store.Tx) error { return tx.Sessions().DeletePooledSandbox(t.Context(), full.ID) })
	wantKind(t, err, errdefs.ErrNotFound)
}
