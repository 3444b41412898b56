package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	"github.com/spf13/cobra"
)

// endpointFlags are the flags of the endpoints subcommands.
type endpointFlags struct {
	name, version, description string
	timeout                    time.Duration
}

func newEndpointsCmd(g *globals, stdout io.Writer) *cobra.Command {
	var f endpointFlags
	// run resolves the runtime and the API for a subcommand, then calls fn.
	run := func(cmd *cobra.Command, fn func(ctx context.Context, a *api, rt *types.AgentRuntime, asJSON bool) error) error {
		asJSON, err := g.json()
		if err != nil {
			return err
		}
		name, err := runtimeName(f.name, "berth endpoints --name my_agent")
		if err != nil {
			return err
		}
		a, err := g.api(cmd.Context())
		if err != nil {
			return err
		}
		rt, err := a.mustFindRuntime(cmd.Context(), name)
		if err != nil {
			return friendly(err, a.endpoint)
		}
		return friendly(fn(cmd.Context(), a, rt, asJSON), a.endpoint)
	}
	ls := func(cmd *cobra.Command, _ []string) error {
		return run(cmd, func(ctx context.Context, a *api, rt *types.AgentRuntime, asJSON bool) error {
			d, err := describeRuntime(ctx, a, aws.ToString(rt.AgentRuntimeName))
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(stdout, struct {
					Endpoints []endpointView `json:"runtimeEndpoints"`
				}{d.Endpoints})
			}
			rows := make([][]string, 0, len(d.Endpoints))
			for _, e := range d.Endpoints {
				rows = append(rows, []string{e.Name, e.Status, e.LiveVersion, e.TargetVersion})
			}
			return writeTable(stdout, []string{"NAME", "STATUS", "LIVE", "TARGET"}, rows)
		})
	}
	cmd := &cobra.Command{
		Use:   "endpoints [ls | create NAME | update NAME | delete NAME]",
		Short: "List, create, repoint and delete the endpoints of an agent runtime",
		Long: `An endpoint is a name callers invoke (--qualifier NAME) that serves one version of a
runtime. DEFAULT always serves the newest READY version; the others stay on the version
they were created or last updated with, so 'berth endpoints create PROD --version 3'
pins production while new deploys go to DEFAULT. Without --name, the runtime is the one
.berth.yaml names. create and update wait until the endpoint is READY.`,
		Example: `  berth endpoints
  berth endpoints create PROD --version 2
  berth endpoints update PROD --version 3
  berth invoke --qualifier PROD '{}'
  berth endpoints delete PROD`,
		Args: cobra.NoArgs,
		RunE: ls,
	}
	cmd.PersistentFlags().StringVar(&f.name, "name", "", "agent runtime name (default: .berth.yaml's)")
	lsCmd := &cobra.Command{Use: "ls", Short: "List the endpoints", Args: cobra.NoArgs, RunE: ls}
	create := &cobra.Command{
		Use: "create NAME [--version N]", Short: "Create an endpoint serving a version (default: the newest)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd, func(ctx context.Context, a *api, rt *types.AgentRuntime, asJSON bool) error {
				in := &cp.CreateAgentRuntimeEndpointInput{AgentRuntimeId: rt.AgentRuntimeId, Name: aws.String(args[0])}
				if f.version != "" {
					in.AgentRuntimeVersion = aws.String(f.version)
				}
				if f.description != "" {
					in.Description = aws.String(f.description)
				}
				if _, err := a.control.CreateAgentRuntimeEndpoint(ctx, in); err != nil {
					return err
				}
				return waitEndpoint(ctx, a, rt, args[0], f.timeout, "Created", asJSON, stdout)
			})
		},
	}
	update := &cobra.Command{
		Use: "update NAME --version N", Short: "Point an endpoint at another version", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.version == "" {
				return hintError{errors.New("update needs --version"), "'berth versions' lists the versions"}
			}
			return run(cmd, func(ctx context.Context, a *api, rt *types.AgentRuntime, asJSON bool) error {
				in := &cp.UpdateAgentRuntimeEndpointInput{AgentRuntimeId: rt.AgentRuntimeId, EndpointName: aws.String(args[0]), AgentRuntimeVersion: aws.String(f.version)}
				if f.description != "" {
					in.Description = aws.String(f.description)
				}
				if _, err := a.control.UpdateAgentRuntimeEndpoint(ctx, in); err != nil {
					return err
				}
				return waitEndpoint(ctx, a, rt, args[0], f.timeout, "Updated", asJSON, stdout)
			})
		},
	}
	del := &cobra.Command{
		Use: "delete NAME", Short: "Delete an endpoint (not DEFAULT)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd, func(ctx context.Context, a *api, rt *types.AgentRuntime, asJSON bool) error {
				out, err := a.control.DeleteAgentRuntimeEndpoint(ctx, &cp.DeleteAgentRuntimeEndpointInput{AgentRuntimeId: rt.AgentRuntimeId, EndpointName: aws.String(args[0])})
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(stdout, struct {
						Name   string `json:"name"`
						Status string `json:"status"`
					}{args[0], string(out.Status)})
				}
				fmt.Fprintf(stdout, "Deleted endpoint %s of %s\n", args[0], aws.ToString(rt.AgentRuntimeName))
				return nil
			})
		},
	}
	for _, c := range []*cobra.Command{create, update} {
		c.Flags().StringVar(&f.version, "version", "", "runtime version the endpoint serves")
		c.Flags().StringVar(&f.description, "description", "", "description of the endpoint")
		c.Flags().DurationVar(&f.timeout, "timeout", 2*time.Minute, "how long to wait for READY")
	}
	cmd.AddCommand(lsCmd, create, update, del)
	return cmd
}

// waitEndpoint polls an endpoint until it is READY (printing it) or failed, with a progress
// line on a terminal.
func waitEndpoint(ctx context.Context, a *api, rt *types.AgentRuntime, name string, timeout time.Duration, verb string, asJSON bool, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	prog := newProgress(stdout)
	defer prog.clear()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		got, err := a.control.GetAgentRuntimeEndpoint(ctx, &cp.GetAgentRuntimeEndpointInput{AgentRuntimeId: rt.AgentRuntimeId, EndpointName: aws.String(name)})
		if err != nil {
			if ctx.Err() != nil {
				return hintError{fmt.Errorf("endpoint %s not READY after %s", name, timeout), "'berth endpoints' shows where it is; raise --timeout"}
			}
			return err
		}
		v := endpointView{Name: aws.ToString(got.Name), Status: string(got.Status), LiveVersion: aws.ToString(got.LiveVersion),
			TargetVersion: aws.ToString(got.TargetVersion), ARN: aws.ToString(got.AgentRuntimeEndpointArn)}
		switch got.Status {
		case types.AgentRuntimeEndpointStatusReady:
			prog.clear()
			if asJSON {
				return writeJSON(stdout, v)
			}
			fmt.Fprintf(stdout, "%s endpoint %s of %s: version %s is %s\n", verb, v.Name, aws.ToString(rt.AgentRuntimeName), v.LiveVersion, v.Status)
			return nil
		case types.AgentRuntimeEndpointStatusCreateFailed, types.AgentRuntimeEndpointStatusUpdateFailed:
			return hintError{fmt.Errorf("endpoint %s is %s: %s", name, got.Status, aws.ToString(got.FailureReason)), "'berth versions' lists the versions it can serve"}
		}
		prog.step("Waiting for endpoint %s: %s", name, got.Status)
		select {
		case <-ctx.Done():
			return hintError{fmt.Errorf("endpoint %s not READY after %s (last status %s)", name, timeout, got.Status), "'berth endpoints' shows where it is; raise --timeout"}
		case <-tick.C:
		}
	}
}
