package sqlite

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/internal/store"
)

// TestSessions_StorageForm checks the column encodings 00002_sessions.sql documents, which
// SQL reading the table relies on: a live record's ended_ms is NULL (not the zero time's
// instant), a nil state is NULL and an empty one an empty BLOB, CPU time is nanoseconds.
func TestSessions_StorageForm(t *testing.T) {
	db := openAt(t, filepath.Join(t.TempDir(), "berth.db"))
	defer func() { _ = db.Close() }()
	start := time.Date(2026, 3, 14, 15, 9, 26, 535_000_000, time.UTC)
	live := store.SessionRecord{ID: "0190-live", State: store.SessionActive, CPUTime: 1500*time.Millisecond + 7,
		StartedAt: start, LastActivityAt: start}
	done := live
	done.ID, done.State, done.SandboxState, done.EndedAt = "0190-done", store.SessionTerminated, json.RawMessage{}, start.Add(time.Minute)
	err := db.Update(t.Context(), func(tx store.Tx) error {
		if err := tx.Sessions().CreateSession(t.Context(), live); err != nil {
			return err
		}
		return tx.Sessions().CreateSession(t.Context(), done)
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id   string
		want string
	}{
		{live.ID, "null null 1500000007"},
		{done.ID, "integer blob 1500000007"},
	}
	for _, tt := range tests {
		var got string
		err := db.read.QueryRowContext(t.Context(),
			`SELECT typeof(ended_ms) || ' ' || typeof(sandbox_state) || ' ' || cpu_time_ns
			 FROM sessions WHERE id = ?`, tt.id).Scan(&got)
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("record %s stored as %q, want %q", tt.id, got, tt.want)
		}
	}
}

// TestListSessionsQuery_UsesIndex checks that each filter of ListSessions reads through its
// index in id order, with no sort and no pass over every record.
func TestListSessionsQuery_UsesIndex(t *testing.T) {
	db := openAt(t, filepath.Join(t.TempDir(), "berth.db"))
	defer func() { _ = db.Close() }()
	tests := []struct {
		name     string
		f        store.SessionFilter
		beforeID string
		index    string
	}{
		{"All", store.SessionFilter{}, "", "sqlite_autoindex_sessions_1"},
		{"Before", store.SessionFilter{}, "0190", "sqlite_autoindex_sessions_1 (id<?)"},
		{"Runtime", store.SessionFilter{RuntimeID: "rt"}, "", "sessions_runtime (runtime_id=?)"},
		{"RuntimeBefore", store.SessionFilter{RuntimeID: "rt"}, "0190", "sessions_runtime (runtime_id=? AND id<?)"},
		{"Session", store.SessionFilter{SessionID: "s"}, "", "sessions_session (session_id=?)"},
		{"SessionBefore", store.SessionFilter{SessionID: "s"}, "0190", "sessions_session (session_id=? AND id<?)"},
		{"Live", store.SessionFilter{LiveOnly: true}, "", "sessions_live"},
		{"LiveBefore", store.SessionFilter{LiveOnly: true}, "0190", "sessions_live (id<?)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			query, args := listSessionsQuery(tt.f, tt.beforeID, 10)
			rows, err := db.read.QueryContext(t.Context(), `EXPLAIN QUERY PLAN `+query, args...)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = rows.Close() }()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			got := strings.Join(plan, "; ")
			if len(plan) != 1 || !strings.HasSuffix(plan[0], "USING INDEX "+tt.index) {
				t.Errorf("plan of %s\n  = %q\nwant one step using index %s", query, got, tt.index)
			}
		})
	}
}
