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
	update(t, s, func(tx store.Tx) error {
		for _, r := range rs {
			if err := tx.Sessions().CreateSession(t.Context(), r); err != nil {
				return err
			}
		}
		return nil
	})
}

func getSession(t *testing.T, s store.Store, id string) (store.SessionRecord, error) {
	t.Helper()
	var r store.SessionRecord
	err := s.View(t.Context(), func(tx store.Tx) error {
		var err error
		r, err = tx.Sessions().GetSession(t.Context(), id)
		return err
	})
	return r, err
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

// wantSession fails unless the stored record with want's ID equals want field for field,
// with nil and empty SandboxState told apart and every time in UTC.
func wantSession(t *testing.T, s store.Store, want store.SessionRecord) {
	t.Helper()
	got, err := getSession(t, s, want.ID)
	if err != nil {
		t.Fatalf("GetSession(%s): %v", want.ID, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GetSession(%s) (-want +got):\n%s", want.ID, diff)
	}
	if (want.SandboxState == nil) != (got.SandboxState == nil) {
		t.Errorf("GetSession(%s).SandboxState = %#v, want %#v", want.ID, got.SandboxState, want.SandboxState)
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
		got := listSessions(t, s, store.SessionFilter{}, "", 0)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ListSessions (-want +got):\n%s", diff)
		}
		for i := range min(len(want), len(got)) {
			if (want[i].SandboxState == nil) != (got[i].SandboxState == nil) {
				t.Errorf("ListSessions[%d].SandboxState = %#v, want %#v", i, got[i].SandboxState, want[i].SandboxState)
			}
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

func testListSessions(t *testing.T, open Opener) {
	s := fresh(t, open)
	const a, b = "rta-0123456789", "rtb-0123456789"
	rs := []store.SessionRecord{ // rs[n] started at at(n)
		ended(newSession(a, "s1", 0), "stopped", 1),
		ended(newSession(b, "s1", 1), "idle_timeout", 2),
		newSession(a, "s2", 2),
		newSession(a, "s1", 3), // s1 again on a, after its first session ended
		newSession(b, "s3", 4),
		newSession(a, "s3", 5),
		ended(newSession(b, "s1", 6), "max_lifetime", 7),
		newSession(b, "s2", 7),
	}
	rs[2].State, rs[4].State, rs[5].State = store.SessionIdle, store.SessionStarting, store.SessionTerminating
	// Inserted out of start order: the order must come from the IDs.
	for _, n := range []int{5, 0, 7, 2, 4, 1, 6, 3} {
		createSessions(t, s, rs[n])
	}
	pick := func(ns ...int) []store.SessionRecord {
		var out []store.SessionRecord
		for _, n := range ns {
			out = append(out, rs[n])
		}
		return out
	}

	tests := []struct {
		name     string
		f        store.SessionFilter
		beforeID string
		limit    int
		want     []store.SessionRecord
	}{
		{"All", store.SessionFilter{}, "", 0, pick(7, 6, 5, 4, 3, 2, 1, 0)},
		{"NegativeLimit", store.SessionFilter{}, "", -1, pick(7, 6, 5, 4, 3, 2, 1, 0)},
		{"Limit", store.SessionFilter{}, "", 3, pick(7, 6, 5)},
		{"LimitAboveCount", store.SessionFilter{}, "", 100, pick(7, 6, 5, 4, 3, 2, 1, 0)},
		{"BeforeIsExclusive", store.SessionFilter{}, rs[5].ID, 0, pick(4, 3, 2, 1, 0)},
		{"BeforeWithLimit", store.SessionFilter{}, rs[5].ID, 2, pick(4, 3)},
		{"BeforeBetweenIDs", store.SessionFilter{}, rs[5].ID + "~", 2, pick(5, 4)},
		{"BeforeAboveAll", store.SessionFilter{}, "~", 2, pick(7, 6)},
		{"BeforeFirst", store.SessionFilter{}, rs[0].ID, 0, nil},
		{"Runtime", store.SessionFilter{RuntimeID: a}, "", 0, pick(5, 3, 2, 0)},
		{"OtherRuntime", store.SessionFilter{RuntimeID: b}, "", 0, pick(7, 6, 4, 1)},
		{"UnknownRuntime", store.SessionFilter{RuntimeID: "rtc-0123456789"}, "", 0, nil},
		{"RuntimeIsExact", store.SessionFilter{RuntimeID: "rta"}, "", 0, nil},
		{"RuntimeBefore", store.SessionFilter{RuntimeID: a}, rs[3].ID, 0, pick(2, 0)},
		{"Session", store.SessionFilter{SessionID: "s1"}, "", 0, pick(6, 3, 1, 0)},
		{"SessionIsExact", store.SessionFilter{SessionID: "s"}, "", 0, nil},
		{"SessionBefore", store.SessionFilter{SessionID: "s1"}, rs[6].ID, 2, pick(3, 1)},
		{"RuntimeAndSession", store.SessionFilter{RuntimeID: a, SessionID: "s1"}, "", 0, pick(3, 0)},
		{"OtherRuntimeAndSession", store.SessionFilter{RuntimeID: b, SessionID: "s1"}, "", 0, pick(6, 1)},
		{"Live", store.SessionFilter{LiveOnly: true}, "", 0, pick(7, 5, 4, 3, 2)},
		{"LiveBefore", store.SessionFilter{LiveOnly: true}, rs[5].ID, 2, pick(4, 3)},
		{"LiveRuntime", store.SessionFilter{RuntimeID: a, LiveOnly: true}, "", 0, pick(5, 3, 2)},
		{"LiveSession", store.SessionFilter{SessionID: "s1", LiveOnly: true}, "", 0, pick(3)},
		{"LiveRuntimeSessionNone", store.SessionFilter{RuntimeID: b, SessionID: "s1", LiveOnly: true}, "", 0, nil},
		{"Everything", store.SessionFilter{RuntimeID: a, SessionID: "s2", LiveOnly: true}, rs[3].ID, 1, pick(2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := listSessions(t, s, tt.f, tt.beforeID, tt.limit)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ListSessions(%+v, %q, %d) (-want +got):\n%s", tt.f, tt.beforeID, tt.limit, diff)
			}
		})
	}

	pages := []struct {
		name string
		f    store.SessionFilter
		want []store.SessionRecord
	}{
		{"All", store.SessionFilter{}, pick(7, 6, 5, 4, 3, 2, 1, 0)},
		{"Runtime", store.SessionFilter{RuntimeID: b}, pick(7, 6, 4, 1)},
		{"Live", store.SessionFilter{LiveOnly: true}, pick(7, 5, 4, 3, 2)},
	}
	for _, tt := range pages {
		t.Run("Pages"+tt.name, func(t *testing.T) {
			var got []store.SessionRecord
			before, n := "", 0
			for {
				page := listSessions(t, s, tt.f, before, 2)
				if len(page) > 2 {
					t.Fatalf("page of %d records, limit 2", len(page))
				}
				if len(page) == 0 {
					break
				}
				n++
				got = append(got, page...)
				before = page[len(page)-1].ID
			}
			if wantPages := (len(tt.want) + 1) / 2; n != wantPages {
				t.Errorf("%d records by 2 took %d pages, want %d", len(tt.want), n, wantPages)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("paged list (-want +got):\n%s", diff)
			}
		})
	}
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
