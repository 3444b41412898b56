package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/store"
)

// sessionRecordID returns a UUIDv7 for a session started at at(n): the 48-bit millisecond
// timestamp leads, so the IDs sort by start time, as the store's real ones do.
func sessionRecordID(n int) string {
	ts := at(n).UnixMilli()
	return fmt.Sprintf("%08x-%04x-7%03x-%04x-%012x", ts>>16, ts&0xffff, n&0xfff, 0x8000|n&0x3fff, n)
}

// newSession returns a live record started at at(n), with every field a live record has.
func newSession(runtimeID, sessionID string, n int) store.SessionRecord {
	return store.SessionRecord{
		ID:              sessionRecordID(n),
		RuntimeID:       runtimeID,
		Endpoint:        catalog.DefaultEndpoint,
		SessionID:       sessionID,
		Version:         1,
		State:           store.SessionActive,
		Driver:          "linuxns",
		SandboxID:       fmt.Sprintf("sbx-%d", n),
		SandboxState:    json.RawMessage(fmt.Sprintf(`{"pid":%d}`, 1000+n)),
		CPUTime:         time.Duration(n) * time.Millisecond,
		MemoryPeakBytes: 64 << 20,
		StartedAt:       at(n),
		LastActivityAt:  at(n + 1),
	}
}

// ended returns r terminated at at(n) for reason.
func ended(r store.SessionRecord, reason string, n int) store.SessionRecord {
	r.State, r.EndReason, r.EndedAt = store.SessionTerminated, reason, at(n)
	return r
}

func createSessions(t *testing.T, s store.Store, rs ...store.SessionRecord) {
	t.Helper()
	insert(t, s, rs, func(ctx context.Context, tx store.Tx, r store.SessionRecord) error {
		return tx.Sessions().CreateSession(ctx, r)
	})
}

func getSession(t *testing.T, s store.Store, id string) (store.SessionRecord, error) {
	t.Helper()
	return read(t, s, func(ctx context.Context, tx store.Tx) (store.SessionRecord, error) {
		return tx.Sessions().GetSession(ctx, id)
	})
}

// listSessions returns ListSessions' result, with an empty result as nil.
func listSessions(t *testing.T, s store.Store, f store.SessionFilter, beforeID string, limit int) []store.SessionRecord {
	t.Helper()
	var rs []store.SessionRecord
	view(t, s, func(tx store.Tx) error {
		var err error
		rs, err = tx.Sessions().ListSessions(t.Context(), f, beforeID, limit)
		return err
	})
	if len(rs) == 0 {
		return nil
	}
	return rs
}

// wantSession fails unless the stored record with want's ID equals want field for field
// (cmp tells a nil SandboxState from an empty one), with every time in UTC.
func wantSession(t *testing.T, s store.Store, want store.SessionRecord) {
	t.Helper()
	got, err := getSession(t, s, want.ID)
	if err != nil {
		t.Fatalf("GetSession(%s): %v", want.ID, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GetSession(%s) (-want +got):\n%s", want.ID, diff)
	}
	for name, ts := range map[string]time.Time{
		"StartedAt": got.StartedAt, "LastActivityAt": got.LastActivityAt, "EndedAt": got.EndedAt,
	} {
		if !ts.IsZero() && ts.Location() != time.UTC {
			t.Errorf("GetSession(%s).%s location = %v, want UTC", want.ID, name, ts.Location())
		}
	}
}

// checkFieldsSet fails for every field of the struct v that holds its zero value.
func checkFieldsSet(t *testing.T, v any) {
	t.Helper()
	rv := reflect.ValueOf(v)
	for i := range rv.NumField() {
		if rv.Field(i).IsZero() {
			t.Errorf("%s.%s is not set in the test record", rv.Type(), rv.Type().Field(i).Name)
		}
	}
}

func testSessions(t *testing.T, open Opener) {
	t.Run("RoundTrip", func(t *testing.T) {
		s := fresh(t, open)
		full := ended(newSession("full-0123456789", "caller-session-0000000000000000001", 1), "idle_timeout", 9)
		full.Endpoint, full.Version = "prod", 7
		full.State = store.SessionTerminating // a terminating record already has its end time
		// Not canonical JSON: the store must hand back the very bytes it was given.
		full.SandboxState = json.RawMessage("{\"dir\": \"/run/berth/\u00e9\",\n  \"pid\":42 }")
		full.CPUTime = 90*time.Hour + 123_456_789*time.Nanosecond // below the millisecond
		full.MemoryPeakBytes = 1 << 40
		checkFieldsSet(t, full)

		nilState := newSession("sparse-0123456789", "s", 2)
		nilState.SandboxState, nilState.SandboxID, nilState.CPUTime, nilState.MemoryPeakBytes = nil, "", 0, 0
		nilState.State = store.SessionStarting
		emptyState := newSession("sparse-0123456789", "s", 3)
		emptyState.SandboxState = json.RawMessage{}
		createSessions(t, s, full, nilState, emptyState)
		for _, want := range []store.SessionRecord{full, nilState, emptyState} {
			wantSession(t, s, want)
		}
		// The list reads records the same way.
		want := []store.SessionRecord{emptyState, nilState, full}
		if diff := cmp.Diff(want, listSessions(t, s, store.SessionFilter{}, "", 0)); diff != "" {
			t.Errorf("ListSessions (-want +got):\n%s", diff)
		}
	})

	t.Run("Conflict", func(t *testing.T) {
		s := fresh(t, open)
		orig := newSession("rt-0123456789", "s", 1)
		createSessions(t, s, orig)
		dup := ended(newSession("other-0123456789", "t", 2), "stopped", 3)
		dup.ID = orig.ID
		err := s.Update(t.Context(), func(tx store.Tx) error { return tx.Sessions().CreateSession(t.Context(), dup) })
		wantKind(t, err, errdefs.ErrConflict)
		wantSession(t, s, orig)
	})

	t.Run("Missing", func(t *testing.T) {
		s := fresh(t, open)
		kept := newSession("rt-0123456789", "s", 1)
		createSessions(t, s, kept)
		ghost := newSession("rt-0123456789", "s", 2)
		tests := []struct {
			name string
			fn   func(ctx context.Context, ss store.Sessions) error
		}{
			{"Get", func(ctx context.Context, ss store.Sessions) error {
				_, err := ss.GetSession(ctx, ghost.ID)
				return err
			}},
			{"Update", func(ctx context.Context, ss store.Sessions) error { return ss.UpdateSession(ctx, ghost) }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := s.Update(t.Context(), func(tx store.Tx) error { return tt.fn(t.Context(), tx.Sessions()) })
				wantKind(t, err, errdefs.ErrNotFound)
			})
		}
		wantSession(t, s, kept)
	})

	t.Run("Update", func(t *testing.T) { testUpdateSession(t, open) })
	t.Run("List", func(t *testing.T) { testListSessions(t, open) })
	t.Run("OutliveRuntime", func(t *testing.T) { testSessionsOutliveRuntime(t, open) })
	t.Run("Pooled", func(t *testing.T) { testPooledSandboxes(t, open) })
}

func testUpdateSession(t *testing.T, open Opener) {
	s := fresh(t, open)
	r := newSession("rt-0123456789", "s", 1)
	other := newSession("rt-0123456789", "s2", 2)
	createSessions(t, s, r, other)
	live := store.SessionFilter{LiveOnly: true}

	changed := ended(r, "max_lifetime", 50)
	changed.SandboxID, changed.SandboxState = "sbx-replaced", json.RawMessage(`{"pid":7}`)
	changed.CPUTime, changed.MemoryPeakBytes, changed.LastActivityAt = 3*time.Second+1, 1<<33, at(40)
	// Immutable fields: must be ignored.
	changed.RuntimeID, changed.Endpoint, changed.SessionID = "moved-0123456789", "prod", "other"
	changed.Version, changed.Driver, changed.StartedAt = 9, "microvm", at(30)
	update(t, s, func(tx store.Tx) error { return tx.Sessions().UpdateSession(t.Context(), changed) })
	want := r
	want.State, want.EndReason, want.SandboxID, want.SandboxState = changed.State, changed.EndReason, changed.SandboxID, changed.SandboxState
	want.CPUTime, want.MemoryPeakBytes, want.LastActivityAt, want.EndedAt = changed.CPUTime, changed.MemoryPeakBytes, changed.LastActivityAt, changed.EndedAt
	wantSession(t, s, want)
	wantSession(t, s, other)
	if diff := cmp.Diff([]store.SessionRecord{other}, listSessions(t, s, live, "", 0)); diff != "" {
		t.Errorf("live records after terminating one (-want +got):\n%s", diff)
	}

	// Back to live, with the optional fields cleared: nil state and no end time.
	reopened := want
	reopened.State, reopened.EndReason, reopened.EndedAt = store.SessionIdle, "", time.Time{}
	reopened.SandboxState, reopened.SandboxID = nil, ""
	update(t, s, func(tx store.Tx) error { return tx.Sessions().UpdateSession(t.Context(), reopened) })
	wantSession(t, s, reopened)
	if diff := cmp.Diff([]store.SessionRecord{other, reopened}, listSessions(t, s, live, "", 0)); diff != "" {
		t.Errorf("live records after reopening one (-want +got):\n%s", diff)
	}

	// An empty state is not a nil one.
	reopened.SandboxState = json.RawMessage{}
	update(t, s, func(tx store.Tx) error { return tx.Sessions().UpdateSession(t.Context(), reopened) })
	wantSession(t, s, reopened)
}

// testSessionsOutliveRuntime checks that session history survives DeleteRuntime, and that
// a record whose runtime is gone can still be closed.
func testSessionsOutliveRuntime(t *testing.T, open Opener) {
	s := fresh(t, open)
	doomed, kept := newRuntime("doomed", 0), newRuntime("kept", 1)
	createRuntimes(t, s, doomed, kept)
	createVersions(t, s, newVersion(doomed.ID, 1, 1))
	createEndpoints(t, s, newEndpoint(doomed.ID, catalog.DefaultEndpoint, 1))
	past := ended(newSession(doomed.ID, "s1", 2), "stopped", 3)
	live := newSession(doomed.ID, "s2", 4)
	elsewhere := newSession(kept.ID, "s1", 5)
	createSessions(t, s, past, live, elsewhere)

	update(t, s, func(tx store.Tx) error { return tx.Runtimes().DeleteRuntime(t.Context(), doomed.ID) })
	_, err := getRuntime(t, s, doomed.ID)
	wantKind(t, err, errdefs.ErrNotFound)
	for _, r := range []store.SessionRecord{past, live, elsewhere} {
		wantSession(t, s, r)
	}
	got := listSessions(t, s, store.SessionFilter{RuntimeID: doomed.ID}, "", 0)
	if diff := cmp.Diff([]store.SessionRecord{live, past}, got); diff != "" {
		t.Errorf("ListSessions of the deleted runtime (-want +got):\n%s", diff)
	}

	closed := ended(live, "runtime_deleted", 6)
	update(t, s, func(tx store.Tx) error { return tx.Sessions().UpdateSession(t.Context(), closed) })
	wantSession(t, s, closed)
}
