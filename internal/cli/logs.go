package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/client"
	"berth.dev/berth/internal/sessionlog"
)

type logsFlags struct {
	name, session, since string
	follow               bool
	tail                 int
}

func newLogsCmd(g *globals, stdout io.Writer) *cobra.Command {
	var f logsFlags
	cmd := &cobra.Command{
		Use:   "logs [--session ID] [-f] [--tail N] [--since DURATION|TIME] [--name NAME]",
		Short: "Show (and follow) a session's agent output",
		Long: `Show what a session's agent wrote to stdout and stderr, one line each, with the time it
was written: "<time> <line>"; lines from stderr read "<time> stderr: <line>", Berth's own
notices "<time> berth: <line>". -o json prints the records as the server sends them, one
JSON object per line ({"t":…,"stream":…,"line":…}).

--session takes a session record id ('berth sessions ls --all') or a runtime session id
(its newest record). Without it, logs shows the session 'berth invoke' last used with the
runtime (--name, else .berth.yaml's) from this directory, else the runtime's newest
session.

-f keeps printing new lines as the agent writes them, until the session ends (or Ctrl-C).
The server keeps logs.maxBytesPerSession of each session's output (oldest lines dropped
first) for logs.maxAge after the session ended.`,
		Example: `  berth logs -f
  berth logs --name hello --tail 20
  berth logs --session 4f0c… --since 10m -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			asJSON, err := g.json()
			if err != nil {
				return err
			}
			since, err := pastTime("--since", f.since, time.Now())
			if err != nil {
				return err
			}
			a, err := g.api(cmd.Context())
			if err != nil {
				return err
			}
			return friendly(showLogs(cmd.Context(), a, f, since, asJSON, stdout), a.endpoint)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.session, "session", "s", "", "session record id or runtime session id (default: the one invoke last used here)")
	fl.StringVar(&f.name, "name", "", "agent runtime name (default: .berth.yaml's)")
	fl.BoolVarP(&f.follow, "follow", "f", false, "keep printing new lines until the session ends")
	fl.IntVar(&f.tail, "tail", -1, "only the last N lines (before following); -1 prints all")
	fl.StringVar(&f.since, "since", "", "only lines from this long ago (10m, 2h) or this RFC 3339 time on")
	return cmd
}

func showLogs(ctx context.Context, a *api, f logsFlags, since time.Time, asJSON bool, stdout io.Writer) error {
	s, err := logSession(ctx, a, f.session, f.name)
	if err != nil {
		return err
	}
	emit := func(r client.LogRecord) error {
		var err error
		if asJSON {
			var raw []byte
			if raw, err = json.Marshal(r); err == nil {
				_, err = fmt.Fprintf(stdout, "%s\n", raw)
			}
		} else {
			_, err = io.WriteString(stdout, logLine(r))
		}
		if err != nil {
			return fmt.Errorf("write: %w", err)
		}
		return nil
	}
	err = a.berth.SessionLogs(ctx, s.ID, client.LogQuery{Tail: f.tail, Since: since, Follow: f.follow}, emit)
	if err != nil && ctx.Err() != nil {
		return nil // Ctrl-C ends a follow
	}
	return err
}

// logLine is a record as text: time (UTC, milliseconds; "-" for lines of logs from before
// timestamps), the stream unless it is stdout or output, and the line.
func logLine(r client.LogRecord) string {
	at := "-"
	if !r.Time.IsZero() {
		at = r.Time.UTC().Format("2006-01-02T15:04:05.000Z07:00")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-24s ", at)
	if r.Stream != sessionlog.StreamStdout && r.Stream != sessionlog.StreamOutput {
		b.WriteString(r.Stream + ": ")
	}
	b.WriteString(r.Line)
	b.WriteByte('\n')
	return b.String()
}

// logSession picks the session whose log to show: --session (a record id, else the newest
// record of that runtime session id), else the session invoke last used with the runtime
// (--name, else the project's) from this directory, else the runtime's newest session.
// Without a runtime, the one session remembered here will do.
func logSession(ctx context.Context, a *api, session, name string) (client.Session, error) {
	if session != "" {
		if s, err := a.berth.GetSession(ctx, session); err == nil || !client.NotFound(err) {
			return s, err
		}
	}
	st, err := loadState()
	if err != nil {
		return client.Session{}, err
	}
	var runtimeID, remembered string
	arn, err := runtimeARN(ctx, a, name, "", "berth logs --name my_agent")
	switch {
	case err == nil:
		parsed, err := catalog.ParseARN(arn)
		if err != nil {
			return client.Session{}, err
		}
		runtimeID, remembered = parsed.RuntimeID, st.Sessions[arn]
	case !isNoProject(err):
		return client.Session{}, err
	case session == "" && len(st.Sessions) == 1:
		for _, sid := range st.Sessions {
			remembered = sid
		}
	case session == "":
		return client.Session{}, err
	}
	if session == "" {
		session = remembered
	}
	ss, err := a.berth.ListSessions(ctx, client.SessionFilter{RuntimeID: runtimeID, SessionID: session})
	if err == nil && len(ss) == 0 && remembered != "" && session == remembered && runtimeID != "" {
		// The remembered session left no record: the runtime's newest will do.
		ss, err = a.berth.ListSessions(ctx, client.SessionFilter{RuntimeID: runtimeID})
	}
	if err != nil {
		return client.Session{}, err
	}
	if len(ss) == 0 {
		what := "no session of runtime " + runtimeID
		if session != "" {
			what = fmt.Sprintf("no session has id %q", session)
		}
		return client.Session{}, hintError{errors.New(what), "'berth sessions ls --all' lists them; 'berth invoke' starts one"}
	}
	return ss[0], nil // newest first
}
