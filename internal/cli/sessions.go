package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	data "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	"github.com/spf13/cobra"

	"berth.dev/berth/internal/client"
)

func newSessionsCmd(g *globals, stdout io.Writer) *cobra.Command {
	var name string
	var all bool
	ls := func(cmd *cobra.Command, _ []string) error {
		a, asJSON, err := g.connect(cmd.Context())
		if err != nil {
			return err
		}
		return friendly(listSessions(cmd.Context(), a, name, all, asJSON, stdout), a.endpoint)
	}
	cmd := &cobra.Command{
		Use:   "sessions [ls | show ID | stop ID]",
		Short: "List, inspect and stop agent sessions",
		Long: `List, inspect and stop agent sessions (one sandbox each). Without a subcommand,
sessions lists the live sessions. ID is a session record id (the first column of ls) or
a runtime session id.`,
		Example: `  berth sessions
  berth sessions ls --name hello --all
  berth sessions show 4f0c…
  berth sessions stop 4f0c…`,
		Args: cobra.NoArgs,
		RunE: ls,
	}
	cmd.PersistentFlags().StringVar(&name, "name", "", "only the sessions of this runtime")
	lsCmd := &cobra.Command{Use: "ls", Short: "List sessions (live ones unless --all)", Args: cobra.NoArgs, RunE: ls}
	lsCmd.Flags().BoolVar(&all, "all", false, "include ended sessions")
	cmd.Flags().BoolVar(&all, "all", false, "include ended sessions")
	show := &cobra.Command{
		Use: "show ID", Short: "Show one session", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, asJSON, err := g.connect(cmd.Context())
			if err != nil {
				return err
			}
			s, err := resolveSession(cmd.Context(), a, args[0], false)
			if err != nil {
				return friendly(err, a.endpoint)
			}
			if asJSON {
				return writeJSON(stdout, s)
			}
			return writeFields(stdout, "ID", s.ID, "Runtime", s.AgentRuntimeID, "ARN", s.AgentRuntimeArn,
				"Endpoint", s.Endpoint, "Session", s.SessionID, "Version", s.Version, "State", s.State,
				"End reason", s.EndReason, "Driver", s.Driver, "CPU seconds", strconv.FormatFloat(s.CPUSeconds, 'f', 3, 64),
				"Memory peak", strconv.FormatInt(s.MemoryPeakBytes, 10), "Started", s.StartedAt,
				"Last activity", s.LastActivityAt, "Ended", s.EndedAt)
		},
	}
	stop := &cobra.Command{
		Use: "stop ID", Short: "Stop a live session and wipe its sandbox", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, asJSON, err := g.connect(cmd.Context())
			if err != nil {
				return err
			}
			s, err := resolveSession(cmd.Context(), a, args[0], true)
			if err == nil {
				_, err = a.data.StopRuntimeSession(cmd.Context(), &data.StopRuntimeSessionInput{
					AgentRuntimeArn: aws.String(s.AgentRuntimeArn), RuntimeSessionId: aws.String(s.SessionID),
					Qualifier: aws.String(s.Endpoint),
				})
			}
			if err != nil {
				return friendly(err, a.endpoint)
			}
			if asJSON {
				return writeJSON(stdout, s)
			}
			fmt.Fprintf(stdout, "Stopped session %s of %s\n", s.SessionID, s.AgentRuntimeID)
			return nil
		},
	}
	cmd.AddCommand(lsCmd, show, stop)
	return cmd
}

func listSessions(ctx context.Context, a *api, name string, all, asJSON bool, stdout io.Writer) error {
	f := client.SessionFilter{LiveOnly: !all}
	if name != "" {
		rt, err := a.mustFindRuntime(ctx, name)
		if err != nil {
			return err
		}
		f.RuntimeID = aws.ToString(rt.AgentRuntimeId)
	}
	ss, err := a.berth.ListSessions(ctx, f)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(stdout, struct {
			Sessions []client.Session `json:"sessions"`
		}{ss})
	}
	if len(ss) == 0 {
		fmt.Fprintln(stdout, "No sessions.")
		return nil
	}
	rows := make([][]string, 0, len(ss))
	for _, s := range ss {
		rows = append(rows, []string{s.ID, s.AgentRuntimeID, s.Endpoint, s.SessionID, s.State, s.StartedAt})
	}
	return writeTable(stdout, []string{"ID", "RUNTIME", "ENDPOINT", "SESSION", "STATE", "STARTED"}, rows)
}

// resolveSession finds a session by record id, else by runtime session id (live ones
// first when live is set).
func resolveSession(ctx context.Context, a *api, id string, live bool) (client.Session, error) {
	s, err := a.berth.GetSession(ctx, id)
	if err == nil || !client.NotFound(err) {
		return s, err
	}
	ss, err := a.berth.ListSessions(ctx, client.SessionFilter{SessionID: id, LiveOnly: live})
	if err != nil {
		return client.Session{}, err
	}
	switch len(ss) {
	case 0:
		what := "session"
		if live {
			what = "live session"
		}
		return client.Session{}, hintError{fmt.Errorf("no %s has id %q", what, id), "'berth sessions ls --all' lists them"}
	case 1:
		return ss[0], nil
	}
	return client.Session{}, hintError{errors.New("several sessions have runtime session id " + id), "use the record id from 'berth sessions ls'"}
}
