package sqlite

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"berth.dev/berth/internal/store"
)

// usage implements store.Usage over usage_minutes (00004_usage.sql).
type usage tx

var _ store.Usage = usage{}

func (u usage) PutUsage(ctx context.Context, r store.UsageRecord) error {
	_, err := u.q.ExecContext(ctx,
		`INSERT OR REPLACE INTO usage_minutes (record_id, minute_ms, runtime_id, endpoint, session_id,
			seconds, vcpu_seconds, gb_seconds, memory_peak_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.RecordID, ms(r.Minute), r.RuntimeID, r.Endpoint, r.SessionID,
		r.Seconds, r.VCPUSeconds, r.GBSeconds, r.MemoryPeakBytes)
	if err != nil {
		return dbErr("put usage of session record "+r.RecordID, err)
	}
	return nil
}

// usageColumns maps each group to the SQL expression it groups by. The period expressions
// truncate minute_ms (unix milliseconds, UTC) with integer arithmetic.
var usageColumns = map[store.UsageGroup]string{
	store.UsageByRuntime:  "runtime_id",
	store.UsageByEndpoint: "endpoint",
	store.UsageBySession:  "session_id",
	store.UsageByMinute:   "minute_ms",
	store.UsageByHour:     "(minute_ms - minute_ms % 3600000)",
	store.UsageByDay:      "(minute_ms - minute_ms % 86400000)",
}

func (u usage) SumUsage(ctx context.Context, f store.UsageFilter, by []store.UsageGroup) ([]store.UsageTotal, error) {
	var (
		where []string
		args  []any
	)
	add := func(cond string, v any) { where, args = append(where, cond), append(args, v) }
	if f.RuntimeID != "" {
		add("runtime_id = ?", f.RuntimeID)
	}
	if f.Endpoint != "" {
		add("endpoint = ?", f.Endpoint)
	}
	if f.SessionID != "" {
		add("session_id = ?", f.SessionID)
	}
	if !f.From.IsZero() {
		add("minute_ms >= ?", ms(f.From))
	}
	if !f.To.IsZero() {
		add("minute_ms < ?", ms(f.To))
	}
	cols := make([]string, 0, len(by))
	periods := 0
	for i, g := range by {
		c, ok := usageColumns[g]
		if !ok || slices.Contains(by[:i], g) {
			return nil, fmt.Errorf("sum usage: unknown or repeated group %q", g)
		}
		if isPeriod(g) {
			periods++
		}
		cols = append(cols, c)
	}
	if periods > 1 {
		return nil, fmt.Errorf("sum usage: more than one of minute, hour and day in %v", by)
	}
	query := `SELECT COUNT(DISTINCT record_id), COALESCE(SUM(seconds), 0), COALESCE(SUM(vcpu_seconds), 0),
		COALESCE(SUM(gb_seconds), 0)`
	for _, c := range cols {
		query += ", " + c
	}
	query += " FROM usage_minutes"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	if len(cols) > 0 {
		list := strings.Join(cols, ", ")
		query += " GROUP BY " + list + " ORDER BY " + list
	}
	scan := func(s scanner) (store.UsageTotal, error) {
		var t store.UsageTotal
		dest := []any{&t.Sessions, &t.Seconds, &t.VCPUSeconds, &t.GBSeconds}
		var period int64
		for _, g := range by {
			switch g {
			case store.UsageByRuntime:
				dest = append(dest, &t.RuntimeID)
			case store.UsageByEndpoint:
				dest = append(dest, &t.Endpoint)
			case store.UsageBySession:
				dest = append(dest, &t.SessionID)
			default:
				dest = append(dest, &period)
			}
		}
		if err := s.Scan(dest...); err != nil {
			return store.UsageTotal{}, err
		}
		if periods > 0 {
			t.Period = fromMS(period)
		}
		return t, nil
	}
	return queryAll(ctx, u.q, "sum usage", scan, query, args...)
}

func isPeriod(g store.UsageGroup) bool {
	return g == store.UsageByMinute || g == store.UsageByHour || g == store.UsageByDay
}
