package dataplane

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/client"
	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/httpapi"
	"berth.dev/berth/internal/store"
)

var usageGroups = map[string]store.UsageGroup{
	"runtime": store.UsageByRuntime, "endpoint": store.UsageByEndpoint, "session": store.UsageBySession,
	"minute": store.UsageByMinute, "hour": store.UsageByHour, "day": store.UsageByDay,
}

// usage is GET /berth/v1/usage?runtime=&endpoint=&session=&from=&to=&groupBy=: the billable
// usage metered so far (internal/metering), summed over the matching per-minute records.
// runtime is an agent runtime id or ARN, endpoint a qualifier, session a runtime session
// id; from and to (RFC 3339) bound the minutes, from inclusive, to exclusive; groupBy is a
// comma-separated list of runtime, endpoint, session and at most one of minute, hour, day.
// Costs use the configured prices.
func (a *API) usage(w http.ResponseWriter, r *http.Request) error {
	f, by, names, err := a.parseUsageQuery(r)
	if err != nil {
		return err
	}
	var groups, totals []store.UsageTotal
	err = a.st.View(r.Context(), func(tx store.Tx) error {
		var err error
		if groups, err = tx.Usage().SumUsage(r.Context(), f, by); err != nil {
			return err
		}
		totals, err = tx.Usage().SumUsage(r.Context(), f, nil)
		return err
	})
	if err != nil {
		return err
	}
	out := client.UsageReport{From: stamp(f.From), To: stamp(f.To), GroupBy: names, Usage: []client.UsageRow{},
		Prices: client.UsagePrices{Currency: "USD", CPUPerVCPUHour: a.opts.Prices.CPUPerVCPUHour, MemoryPerGBHour: a.opts.Prices.MemoryPerGBHour}}
	if len(by) > 0 {
		for _, g := range groups {
			out.Usage = append(out.Usage, a.usageRow(g))
		}
	}
	if len(totals) == 1 {
		out.Total = a.usageRow(totals[0])
	}
	return httpapi.WriteJSON(w, http.StatusOK, out)
}

func (a *API) usageRow(t store.UsageTotal) client.UsageRow {
	cpu, mem := a.opts.Prices.Cost(t.VCPUSeconds, t.GBSeconds)
	return client.UsageRow{
		AgentRuntimeID: t.RuntimeID, Endpoint: t.Endpoint, RuntimeSessionID: t.SessionID, Period: stamp(t.Period),
		Sessions: t.Sessions, Seconds: t.Seconds, VCPUSeconds: t.VCPUSeconds, GBSeconds: t.GBSeconds,
		VCPUHours: t.VCPUSeconds / 3600, GBHours: t.GBSeconds / 3600, CPUCost: cpu, MemoryCost: mem, Cost: cpu + mem,
	}
}

// parseUsageQuery validates the query of GET /berth/v1/usage, reporting every problem.
func (a *API) parseUsageQuery(r *http.Request) (store.UsageFilter, []store.UsageGroup, []string, error) {
	q := r.URL.Query()
	var (
		fields errdefs.Fields
		f      store.UsageFilter
		by     []store.UsageGroup
		names  = []string{}
	)
	if rt := q.Get("runtime"); rt != "" {
		if strings.HasPrefix(rt, "arn:") {
			arn, err := catalog.ParseARN(rt)
			if err != nil {
				fields.Add("runtime", "Member must be an agent runtime ARN or id: %v", err)
			}
			f.RuntimeID = arn.RuntimeID
			if arn.Endpoint != "" {
				f.Endpoint = arn.Endpoint
			}
		} else {
			if !catalog.ValidRuntimeID(rt) {
				fields.Add("runtime", "Member must be an agent runtime ARN or an agent runtime id")
			}
			f.RuntimeID = rt
		}
	}
	if ep := q.Get("endpoint"); ep != "" {
		if !catalog.ValidName(ep) {
			fields.Add("endpoint", "Member must satisfy regular expression pattern: ^[a-zA-Z][a-zA-Z0-9_]{0,47}$")
		}
		f.Endpoint = ep
	}
	f.SessionID = q.Get("session")
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				fields.Add(p.name, "Member must be an RFC 3339 time such as 2026-03-14T15:00:00Z")
			}
			*p.dst = t.UTC()
		}
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		fields.Add("to", "Member must be after from")
	}
	periods := 0
	if v := q.Get("groupBy"); v != "" {
		for _, name := range strings.Split(v, ",") {
			name = strings.TrimSpace(name)
			g, ok := usageGroups[name]
			switch {
			case !ok:
				fields.Add("groupBy", "Member must be a list of runtime, endpoint, session, minute, hour, day; got %q", name)
				continue
			case slices.Contains(by, g):
				fields.Add("groupBy", "Member must not repeat %q", name)
				continue
			case g == store.UsageByMinute || g == store.UsageByHour || g == store.UsageByDay:
				periods++
			}
			by, names = append(by, g), append(names, name)
		}
	}
	if periods > 1 {
		fields.Add("groupBy", "Member must hold at most one of minute, hour, day")
	}
	return f, by, names, fields.Err()
}
