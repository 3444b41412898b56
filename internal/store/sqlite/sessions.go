package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"berth.dev/berth/internal/store"
)

// sessions implements store.Sessions. Records have no foreign key to their runtime: they are
// history and survive DeleteRuntime.
type sessions tx

var _ store.Sessions = sessions{}

const sessionColumns = `id, runtime_id, endpoint, session_id, version, state, end_reason, driver,
	sandbox_id, sandbox_state, cpu_time_ns, memory_peak_bytes, started_ms, last_activity_ms, ended_ms`

// sessionSelect reads sessionColumns plus whether sandbox_state is NULL: the driver returns
// an empty BLOB as a nil slice, so the flag is what tells a nil state from an empty one.
const sessionSelect = `SELECT ` + sessionColumns + `, sandbox_state IS NOT NULL FROM sessions`

func scanSession(s scanner) (store.SessionRecord, error) {
	var (
		r                 store.SessionRecord
		state             []byte
		hasState          bool
		cpuNS             int64
		started, activity int64
		ended             sql.NullInt64
	)
	if err := s.Scan(&r.ID, &r.RuntimeID, &r.Endpoint, &r.SessionID, &r.Version, &r.State,
		&r.EndReason, &r.Driver, &r.SandboxID, &state, &cpuNS, &r.MemoryPeakBytes,
		&started, &activity, &ended, &hasState); err != nil {
		return store.SessionRecord{}, err
	}
	if hasState {
		r.SandboxState = json.RawMessage(state)
		if r.SandboxState == nil {
			r.SandboxState = json.RawMessage{}
		}
	}
	r.CPUTime = time.Duration(cpuNS)
	r.StartedAt, r.LastActivityAt = fromMS(started), fromMS(activity)
	if ended.Valid {
		r.EndedAt = fromMS(ended.Int64)
	}
	return r, nil
}

// sandboxState binds SandboxState: nil is NULL, an empty slice an empty BLOB.
func sandboxState(v json.RawMessage) []byte { return []byte(v) }

// endedMS binds EndedAt: the zero time (a live session) is NULL.
func endedMS(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: ms(t), Valid: true}
}

func (s sessions) CreateSession(ctx context.Context, r store.SessionRecord) error {
	_, err := s.q.ExecContext(ctx,
		`INSERT INTO sessions (`+sessionColumns+`)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.RuntimeID, r.Endpoint, r.SessionID, r.Version, r.State, r.EndReason, r.Driver,
		r.SandboxID, sandboxState(r.SandboxState), int64(r.CPUTime), r.MemoryPeakBytes,
		ms(r.StartedAt), ms(r.LastActivityAt), endedMS(r.EndedAt))
	if err != nil {
		return dbErr("create session record "+r.ID, err)
	}
	return nil
}

func (s sessions) GetSession(ctx context.Context, id string) (store.SessionRecord, error) {
	r, err := scanSession(s.q.QueryRowContext(ctx, sessionSelect+` WHERE id = ?`, id))
	if err != nil {
		return store.SessionRecord{}, dbErr("get session record "+id, err)
	}
	return r, nil
}

func (s sessions) UpdateSession(ctx context.Context, r store.SessionRecord) error {
	res, err := s.q.ExecContext(ctx,
		`UPDATE sessions SET state = ?, end_reason = ?, sandbox_id = ?, sandbox_state = ?,
		   cpu_time_ns = ?, memory_peak_bytes = ?, last_activity_ms = ?, ended_ms = ?
		 WHERE id = ?`,
		r.State, r.EndReason, r.SandboxID, sandboxState(r.SandboxState), int64(r.CPUTime),
		r.MemoryPeakBytes, ms(r.LastActivityAt), endedMS(r.EndedAt), r.ID)
	return execOne(res, err, "update session record "+r.ID)
}

// liveCond is how ListSessions spells LiveOnly. It must match the WHERE clause of the partial
// index sessions_live (00002_sessions.sql) textually, or SQLite will not use that index.
const liveCond = `state <> '` + store.SessionTerminated + `'`

func (s sessions) ListSessions(ctx context.Context, f store.SessionFilter, beforeID string, limit int) ([]store.SessionRecord, error) {
	query, args := listSessionsQuery(f, beforeID, limit)
	return queryAll(ctx, s.q, "list session records", scanSession, query, args...)
}

// listSessionsQuery builds ListSessions' statement from fixed fragments, one per filter that
// is set, so SQLite can pick the index that fits: (runtime_id, id), (session_id, id) and
// sessions_live all walk newest first without a sort.
func listSessionsQuery(f store.SessionFilter, beforeID string, limit int) (string, []any) {
	var (
		conds []string
		args  []any
	)
	if f.RuntimeID != "" {
		conds, args = append(conds, `runtime_id = ?`), append(args, f.RuntimeID)
	}
	if f.SessionID != "" {
		conds, args = append(conds, `session_id = ?`), append(args, f.SessionID)
	}
	if f.LiveOnly {
		conds = append(conds, liveCond)
	}
	if beforeID != "" {
		conds, args = append(conds, `id < ?`), append(args, beforeID)
	}
	query := sessionSelect
	if len(conds) > 0 {
		query += ` WHERE ` + strings.Join(conds, ` AND `)
	}
	return query + ` ORDER BY id DESC LIMIT ?`, append(args, sqlLimit(limit))
}
