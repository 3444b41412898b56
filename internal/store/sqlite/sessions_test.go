package sqlite

import (
	"path/filepath"
	"strings"
	"testing"

	"berth.dev/berth/internal/store"
)

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
