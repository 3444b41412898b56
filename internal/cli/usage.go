package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"berth.dev/berth/internal/client"
)

// usageFlags are berth usage's own flags.
type usageFlags struct {
	name, endpoint, session, from, to string
	by                                []string
}

func newUsageCmd(g *globals, stdout io.Writer) *cobra.Command {
	var f usageFlags
	cmd := &cobra.Command{
		Use:   "usage",
		Short: "Show metered usage (vCPU-seconds, GB-seconds) and its cost",
		Long: `Show the usage the server metered, as AgentCore bills it: CPU time actually used
(waiting on I/O costs nothing), memory at its peak so far with a 128 MB floor, per second
with a one-second minimum per session, priced with the server's configured prices
(metering.* settings; AgentCore's list prices by default).

--by groups the rows: runtime, endpoint, session, and at most one of minute, hour, day.
--from and --to take RFC 3339 times or a duration back from now (e.g. 24h).`,
		Example: `  berth usage
  berth usage --name hello --by session
  berth usage --by runtime,day --from 168h -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, asJSON, err := g.connect(cmd.Context())
			if err != nil {
				return err
			}
			return friendly(showUsage(cmd.Context(), a, f, asJSON, stdout), a.endpoint)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.name, "name", "", "only this runtime (name)")
	fl.StringVar(&f.endpoint, "endpoint-name", "", "only this endpoint (qualifier)")
	fl.StringVar(&f.session, "session", "", "only this runtime session id")
	fl.StringVar(&f.from, "from", "", "from this time (RFC 3339, or a duration back from now)")
	fl.StringVar(&f.to, "to", "", "until this time (RFC 3339, or a duration back from now)")
	fl.StringSliceVar(&f.by, "by", nil, "group by: runtime, endpoint, session, minute|hour|day (comma-separated)")
	return cmd
}

func showUsage(ctx context.Context, a *api, f usageFlags, asJSON bool, stdout io.Writer) error {
	q := client.UsageQuery{Endpoint: f.endpoint, SessionID: f.session, GroupBy: f.by}
	now := time.Now()
	var err error
	if q.From, err = pastTime("--from", f.from, now); err != nil {
		return err
	}
	if q.To, err = pastTime("--to", f.to, now); err != nil {
		return err
	}
	if f.name != "" {
		rt, err := a.mustFindRuntime(ctx, f.name)
		if err != nil {
			return err
		}
		q.RuntimeID = aws.ToString(rt.AgentRuntimeId)
	}
	r, err := a.berth.Usage(ctx, q)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(stdout, r)
	}
	header := make([]string, 0, len(r.GroupBy)+6)
	for _, g := range r.GroupBy {
		header = append(header, strings.ToUpper(g))
	}
	header = append(header, "SESSIONS", "SECONDS", "VCPU-SECONDS", "GB-SECONDS", "COST ("+r.Prices.Currency+")")
	rows := make([][]string, 0, len(r.Usage)+1)
	for _, u := range r.Usage {
		rows = append(rows, append(groupCells(r.GroupBy, u), usageCells(u)...))
	}
	total := make([]string, len(r.GroupBy))
	if len(total) > 0 {
		total[0] = "TOTAL"
	}
	rows = append(rows, append(total, usageCells(r.Total)...))
	if err := writeTable(stdout, header, rows); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Prices: %s per vCPU-hour, %s per GB-hour.\n", money(r.Prices.CPUPerVCPUHour), money(r.Prices.MemoryPerGBHour))
	return nil
}

// groupCells are the group columns of a usage row, in the order grouped by.
func groupCells(by []string, u client.UsageRow) []string {
	cells := make([]string, 0, len(by))
	for _, g := range by {
		switch g {
		case "runtime":
			cells = append(cells, u.AgentRuntimeID)
		case "endpoint":
			cells = append(cells, u.Endpoint)
		case "session":
			cells = append(cells, u.RuntimeSessionID)
		default:
			cells = append(cells, u.Period)
		}
	}
	return cells
}

func usageCells(u client.UsageRow) []string {
	return []string{strconv.Itoa(u.Sessions), strconv.FormatFloat(u.Seconds, 'f', 0, 64),
		strconv.FormatFloat(u.VCPUSeconds, 'f', 3, 64), strconv.FormatFloat(u.GBSeconds, 'f', 3, 64), money(u.Cost)}
}

func money(v float64) string { return "$" + strconv.FormatFloat(v, 'f', 6, 64) }
