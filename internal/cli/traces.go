package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/client"
)

func newTracesCmd(g *globals, stdout io.Writer) *cobra.Command {
	var f struct {
		session, runtime, trace string
		limit                   int
	}
	cmd := &cobra.Command{
		Use:   "traces [--session ID] [--runtime NAME|ID] [--trace ID]",
		Short: "Show recent traces as trees of spans",
		Long: `Show the traces the server kept (telemetry.traceRetention, telemetry.traceMaxSpans), newest
first, each as a tree: one line per span, indented under its parent, with its duration and
key attributes. Spans come from the server (the API call, authentication, endpoint
resolution, session start, the call to the agent) and from agents, which send theirs to the
OTLP endpoint Berth serves in every sandbox (marked [agent]).

--session takes a runtime session id or a session record id ('berth sessions'), --runtime a
runtime name or id; a trace is shown when any of its spans matches. --limit counts traces.`,
		Example: `  berth traces --session 4f0c…
  berth traces --runtime hello --limit 5
  berth traces --trace 0af7651916cd43dd8448eb211c80319c -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, asJSON, err := g.connect(cmd.Context())
			if err != nil {
				return err
			}
			filter := client.TraceFilter{TraceID: f.trace, Limit: f.limit}
			err = resolveTraceFilter(cmd.Context(), a, f.session, f.runtime, &filter)
			if err == nil {
				err = showTraces(cmd.Context(), a, filter, asJSON, stdout)
			}
			return friendly(err, a.endpoint)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.session, "session", "", "only traces of this session (runtime session id or record id)")
	fl.StringVar(&f.runtime, "runtime", "", "only traces of this agent runtime (name or id)")
	fl.StringVar(&f.trace, "trace", "", "only the trace with this id (32 hex digits)")
	fl.IntVar(&f.limit, "limit", 0, "the most recent traces to show (default 20)")
	return cmd
}

// resolveTraceFilter turns a session record id into its runtime session id and a runtime
// name into its id.
func resolveTraceFilter(ctx context.Context, a *api, session, runtime string, f *client.TraceFilter) error {
	if session != "" {
		f.SessionID = session
		s, err := a.berth.GetSession(ctx, session)
		switch {
		case err == nil:
			f.SessionID = s.SessionID
		case !client.NotFound(err):
			return err
		}
	}
	if runtime != "" {
		f.RuntimeID = runtime
		if !catalog.ValidRuntimeID(runtime) && !strings.HasPrefix(runtime, "arn:") {
			rt, err := a.mustFindRuntime(ctx, runtime)
			if err != nil {
				return err
			}
			f.RuntimeID = aws.ToString(rt.AgentRuntimeId)
		}
	}
	return nil
}

func showTraces(ctx context.Context, a *api, f client.TraceFilter, asJSON bool, stdout io.Writer) error {
	spans, err := a.berth.ListTraces(ctx, f)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(stdout, struct {
			Spans []client.Span `json:"spans"`
		}{spans})
	}
	if len(spans) == 0 {
		fmt.Fprintln(stdout, "No traces.")
		return nil
	}
	for i, tr := range groupTraces(spans) {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		writeTrace(stdout, tr)
	}
	return nil
}

// groupTraces splits spans (each trace's together, as the server sends them) by trace,
// keeping the order.
func groupTraces(spans []client.Span) [][]client.Span {
	var out [][]client.Span
	for _, s := range spans {
		if n := len(out); n > 0 && out[n-1][0].TraceID == s.TraceID {
			out[n-1] = append(out[n-1], s)
			continue
		}
		out = append(out, []client.Span{s})
	}
	return out
}

// writeTrace prints one trace: a header, then its spans as a tree. Spans whose parent is not
// among them (the caller's, or one dropped) are roots.
func writeTrace(w io.Writer, spans []client.Span) {
	ids := map[string]bool{}
	for _, s := range spans {
		ids[s.SpanID] = true
	}
	children := map[string][]client.Span{}
	var roots []client.Span
	first, last := time.Time{}, time.Time{}
	for _, s := range spans {
		if s.ParentSpanID != "" && ids[s.ParentSpanID] && s.ParentSpanID != s.SpanID {
			children[s.ParentSpanID] = append(children[s.ParentSpanID], s)
		} else {
			roots = append(roots, s)
		}
		st, en := parseTime(s.Start), parseTime(s.End)
		if first.IsZero() || st.Before(first) {
			first = st
		}
		if en.After(last) {
			last = en
		}
	}
	fmt.Fprintf(w, "Trace %s  %s  %s  %d spans\n", spans[0].TraceID, first.UTC().Format(time.RFC3339), duration(last.Sub(first)), len(spans))
	byStart := func(a, b client.Span) int { return parseTime(a.Start).Compare(parseTime(b.Start)) }
	slices.SortStableFunc(roots, byStart)
	seen := map[string]bool{}
	var walk func(s client.Span, depth int)
	walk = func(s client.Span, depth int) {
		if seen[s.SpanID] { // a cycle of bad parent ids: print each span once
			return
		}
		seen[s.SpanID] = true
		fmt.Fprintln(w, spanLine(s, depth))
		kids := children[s.SpanID]
		slices.SortStableFunc(kids, byStart)
		for _, k := range kids {
			walk(k, depth+1)
		}
	}
	for _, r := range roots {
		walk(r, 1)
	}
}

// shownAttrs are the attributes a span line shows, with their labels; rootOnly ones only on
// root spans, where they say whose trace it is.
var shownAttrs = []struct {
	key, label string
	rootOnly   bool
}{
	{"berth.runtime.id", "runtime", true},
	{"berth.endpoint", "endpoint", true},
	{"session.id", "session", true},
	{"http.response.status_code", "status", false},
	{"error.type", "error", false},
	{"berth.session.start", "start", false},
	{"berth.pool.hit", "pool_hit", false},
	{"berth.sandbox.driver", "driver", false},
	{"berth.session.start_ms", "start_ms", false},
	{"berth.runtime.version", "version", false},
	{"gen_ai.request.model", "model", false},
	{"gen_ai.tool.name", "tool", false},
	{"gen_ai.usage.input_tokens", "input_tokens", false},
	{"gen_ai.usage.output_tokens", "output_tokens", false},
}

// spanLine is one span: indentation, name, duration, [agent], key attributes, error.
func spanLine(s client.Span, depth int) string {
	var b strings.Builder
	b.WriteString(strings.Repeat("  ", depth))
	b.WriteString(s.Name)
	b.WriteString("  ")
	b.WriteString(duration(parseTime(s.End).Sub(parseTime(s.Start))))
	if s.Source == "agent" {
		b.WriteString("  [agent]")
	}
	for _, a := range shownAttrs {
		if a.rootOnly && depth > 1 {
			continue
		}
		if v, ok := s.Attributes[a.key]; ok {
			fmt.Fprintf(&b, "  %s=%v", a.label, v)
		}
	}
	if s.Status == "error" {
		b.WriteString("  ERROR")
		if s.StatusMessage != "" {
			b.WriteString(": " + s.StatusMessage)
		}
	}
	return b.String()
}

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// duration prints d in milliseconds below a second, else in seconds.
func duration(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000)
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}
