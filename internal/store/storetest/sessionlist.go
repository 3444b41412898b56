package storetest

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"berth.dev/berth/internal/store"
)

// testListSessions checks ListSessions' order (newest first by ID), its exclusive beforeID
// bound, its limit, each filter alone and combined, and paging.
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
				if n++; n > len(tt.want) {
					t.Fatalf("still paging after %d pages: beforeID %q is not an exclusive bound", n, before)
				}
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
