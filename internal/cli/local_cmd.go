package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// localView is what 'berth local' prints.
type localView struct {
	Running bool `json:"running"`
	localServer
}

func newLocalCmd(g *globals, stdout io.Writer) *cobra.Command {
	show := func(v localView, verb string) error {
		asJSON, err := g.json()
		if err != nil {
			return err
		}
		if asJSON {
			return writeJSON(stdout, v)
		}
		if !v.Running && verb == "" {
			fmt.Fprintln(stdout, "No local server is running for this project. 'berth deploy --local' starts one.")
			return nil
		}
		if verb != "" {
			fmt.Fprintf(stdout, "%s the local server (pid %d)\n", verb, v.PID)
			if verb == "Stopped" {
				return nil
			}
		}
		return writeFields(stdout, "Endpoint", v.Endpoint, "PID", fmt.Sprint(v.PID), "Data", v.DataDir,
			"Credentials", v.Credentials, "Region", v.Region, "Log", v.Log, "Started", v.StartedAt)
	}
	cmd := &cobra.Command{
		Use:   "local [status | start | stop]",
		Short: "Show, start or stop the project's local Berth server",
		Long: `The project's local server is a Berth server run in the background for this directory:
data in .berth/server, output in .berth/server.log, and what the CLI needs to reach it in
.berth/local.json. 'berth deploy --local' starts it when it is not running; every command
given --local talks to it. It keeps running until 'berth local stop'.

It is configured like 'berth server', from BERTH_* variables of the environment: it picks
its sandbox driver as --sandbox auto does (set BERTH_SANDBOX=process for a development server
without isolation, or run as root after 'berth setup' for an isolating one), and when
another Berth server runs on the host, give it its own BERTH_EGRESS_TAG and
BERTH_EGRESS_SUBNET.`,
		Example: `  berth deploy --local
  berth invoke --local '{"prompt": "hi"}'
  berth local
  berth local stop`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ls, err := runningLocal()
			if err != nil && !errors.Is(err, errNoLocal) {
				return err
			}
			return show(localView{Running: err == nil, localServer: ls}, "")
		},
	}
	status := &cobra.Command{Use: "status", Short: "Show the local server", Args: cobra.NoArgs, RunE: cmd.RunE}
	start := &cobra.Command{
		Use: "start", Short: "Start the local server (no-op when it runs)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.resolveWithoutLocal(); err != nil {
				return err
			}
			prog := newProgress(stdout)
			ls, started, err := startLocal(cmd.Context(), g.region, prog)
			prog.clear()
			if err != nil {
				return err
			}
			verb := "Reusing"
			if started {
				verb = "Started"
			}
			return show(localView{Running: true, localServer: ls}, verb)
		},
	}
	stop := &cobra.Command{
		Use: "stop", Short: "Stop the local server", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ls, running, err := stopLocal(cmd.Context())
			if err != nil {
				return err
			}
			if !running {
				return show(localView{}, "")
			}
			return show(localView{localServer: ls}, "Stopped")
		},
	}
	cmd.AddCommand(status, start, stop)
	return cmd
}
