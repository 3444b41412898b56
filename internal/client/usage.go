package client

import (
	"context"
	"net/url"
	"strings"
	"time"
)

// UsageRow is one row of GET /berth/v1/usage: billable usage and its cost. The group
// fields (runtime, endpoint, session, period) are set as grouped. It is the wire shape,
// declared once: the server's handler writes it too.
type UsageRow struct {
	AgentRuntimeID   string  `json:"agentRuntimeId,omitempty"`
	Endpoint         string  `json:"endpointName,omitempty"`
	RuntimeSessionID string  `json:"runtimeSessionId,omitempty"`
	Period           string  `json:"period,omitempty"` // start of the minute, hour or day
	Sessions         int     `json:"sessions"`         // distinct session records
	Seconds          float64 `json:"seconds"`          // billed session life
	VCPUSeconds      float64 `json:"vcpuSeconds"`
	GBSeconds        float64 `json:"gbSeconds"`
	VCPUHours        float64 `json:"vcpuHours"`
	GBHours          float64 `json:"gbHours"`
	CPUCost          float64 `json:"cpuCost"`
	MemoryCost       float64 `json:"memoryCost"`
	Cost             float64 `json:"cost"`
}

// UsageReport is the answer of GET /berth/v1/usage.
type UsageReport struct {
	From    string      `json:"from,omitempty"`
	To      string      `json:"to,omitempty"`
	GroupBy []string    `json:"groupBy"`
	Prices  UsagePrices `json:"prices"`
	Usage   []UsageRow  `json:"usage"`
	Total   UsageRow    `json:"total"`
}

// UsagePrices are the prices the report's costs use.
type UsagePrices struct {
	Currency        string  `json:"currency"`
	CPUPerVCPUHour  float64 `json:"cpuPerVcpuHour"`
	MemoryPerGBHour float64 `json:"memoryPerGbHour"`
}

// UsageQuery selects and groups usage; zero values match everything.
type UsageQuery struct {
	RuntimeID string // agent runtime id or ARN
	Endpoint  string // qualifier
	SessionID string // runtime session id
	From, To  time.Time
	GroupBy   []string // runtime, endpoint, session, and at most one of minute, hour, day
}

// Usage returns the metered usage matching q.
func (c *Client) Usage(ctx context.Context, q UsageQuery) (UsageReport, error) {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set("runtime", q.RuntimeID)
	set("endpoint", q.Endpoint)
	set("session", q.SessionID)
	if !q.From.IsZero() {
		v.Set("from", q.From.UTC().Format(time.RFC3339))
	}
	if !q.To.IsZero() {
		v.Set("to", q.To.UTC().Format(time.RFC3339))
	}
	set("groupBy", strings.Join(q.GroupBy, ","))
	var r UsageReport
	err := c.get(ctx, "/berth/v1/usage", v, &r)
	return r, err
}
