package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"berth.dev/berth/internal/store"
)

func sumUsage(t *testing.T, s store.Store, f store.UsageFilter, by ...store.UsageGroup) []store.UsageTotal {
	t.Helper()
	var out []store.UsageTotal
	view(t, s, func(tx store.Tx) error {
		var err error
		out, err = tx.Usage().SumUsage(t.Context(), f, by)
		return err
	})
	return out
}

// testUsage checks the usage records: a put replaces the record of the same session record
// and minute (so a repeated flush does not count twice), sums filter by runtime, endpoint,
// session and a half-open time range, group by each dimension (ordered), count distinct
// session records, and an empty store sums to one zero total.
func testUsage(t *testing.T, open Opener) {
	s := fresh(t, open)
	if got := sumUsage(t, s, store.UsageFilter{}); len(got) != 1 || got[0] != (store.UsageTotal{}) {
		t.Fatalf("empty store sums to %+v, want one zero total", got)
	}
	m0 := t0.Truncate(time.Hour) // whole hour
	minute := func(n int) time.Time { return m0.Add(time.Duration(n) * time.Minute) }
	rec := func(id string, rt, ep, sid string, n int, sec, cpu, gb float64) store.UsageRecord {
		return store.UsageRecord{RecordID: id, Minute: minute(n), RuntimeID: rt, Endpoint: ep, SessionID: sid,
			Seconds: sec, VCPUSeconds: cpu, GBSeconds: gb, MemoryPeakBytes: 200 << 20}
	}
	first := rec("r1", "rt-a", "DEFAULT", "s1", 0, 60, 1, 7.5)
	checkFieldsSet(t, first)
	records := []store.UsageRecord{
		first,
		rec("r1", "rt-a", "DEFAULT", "s1", 1, 30, 0.5, 3.75),
		rec("r2", "rt-a", "prod", "s2", 1, 10, 2, 1.25),
		rec("r3", "rt-b", "DEFAULT", "s1", 61, 5, 0.25, 0.625), // the next hour
	}
	update(t, s, func(tx store.Tx) error {
		for _, r := range records {
			if err := tx.Usage().PutUsage(t.Context(), r); err != nil {
				return err
			}
		}
		return nil
	})
	// The same minute again, with grown figures: replaced, not added.
	again := records[1]
	again.Seconds, again.VCPUSeconds, again.GBSeconds = 40, 0.75, 5
	update(t, s, func(tx store.Tx) error { return tx.Usage().PutUsage(t.Context(), again) })

	total := sumUsage(t, s, store.UsageFilter{})
	if diff := cmp.Diff([]store.UsageTotal{{Sessions: 3, Seconds: 115, VCPUSeconds: 4, GBSeconds: 14.375}}, total); diff != "" {
		t.Errorf("total (-want +got):\n%s", diff)
	}
	tests := []struct {
		name string
		f    store.UsageFilter
		by   []store.UsageGroup
		want []store.UsageTotal
	}{
		{"by runtime", store.UsageFilter{}, []store.UsageGroup{store.UsageByRuntime}, []store.UsageTotal{
			{RuntimeID: "rt-a", Sessions: 2, Seconds: 110, VCPUSeconds: 3.75, GBSeconds: 13.75},
			{RuntimeID: "rt-b", Sessions: 1, Seconds: 5, VCPUSeconds: 0.25, GBSeconds: 0.625},
		}},
		{"by endpoint and session", store.UsageFilter{RuntimeID: "rt-a"}, []store.UsageGroup{store.UsageByEndpoint, store.UsageBySession}, []store.UsageTotal{
			{Endpoint: "DEFAULT", SessionID: "s1", Sessions: 1, Seconds: 100, VCPUSeconds: 1.75, GBSeconds: 12.5},
			{Endpoint: "prod", SessionID: "s2", Sessions: 1, Seconds: 10, VCPUSeconds: 2, GBSeconds: 1.25},
		}},
		{"by minute in a range", store.UsageFilter{From: minute(1), To: minute(61)}, []store.UsageGroup{store.UsageByMinute}, []store.UsageTotal{
			{Period: minute(1), Sessions: 2, Seconds: 50, VCPUSeconds: 2.75, GBSeconds: 6.25},
		}},
		{"by hour", store.UsageFilter{}, []store.UsageGroup{store.UsageByHour}, []store.UsageTotal{
			{Period: m0, Sessions: 2, Seconds: 110, VCPUSeconds: 3.75, GBSeconds: 13.75},
			{Period: m0.Add(time.Hour), Sessions: 1, Seconds: 5, VCPUSeconds: 0.25, GBSeconds: 0.625},
		}},
		{"by day for one session id", store.UsageFilter{SessionID: "s1"}, []store.UsageGroup{store.UsageByDay}, []store.UsageTotal{
			{Period: m0.Truncate(24 * time.Hour), Sessions: 2, Seconds: 105, VCPUSeconds: 2, GBSeconds: 13.125},
		}},
		{"endpoint filter", store.UsageFilter{RuntimeID: "rt-a", Endpoint: "prod"}, nil, []store.UsageTotal{
			{Sessions: 1, Seconds: 10, VCPUSeconds: 2, GBSeconds: 1.25},
		}},
		{"no match grouped", store.UsageFilter{RuntimeID: "rt-none"}, []store.UsageGroup{store.UsageByRuntime}, []store.UsageTotal{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sumUsage(t, s, tt.f, tt.by...)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("SumUsage (-want +got):\n%s", diff)
			}
			for _, g := range got {
				if !g.Period.IsZero() && g.Period.Location() != time.UTC {
					t.Errorf("period %v is not UTC", g.Period)
				}
			}
		})
	}
	err := s.View(t.Context(), func(tx store.Tx) error {
		_, err := tx.Usage().SumUsage(t.Context(), store.UsageFilter{}, []store.UsageGroup{store.UsageByHour, store.UsageByDay})
		return err
	})
	if err == nil {
		t.Error("grouping by hour and day at once succeeded")
	}
}
