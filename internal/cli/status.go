package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	"github.com/spf13/cobra"
)

// runtimeView is one runtime (or one version of it) as status prints it.
type runtimeView struct {
	Name        string `json:"agentRuntimeName"`
	ID          string `json:"agentRuntimeId"`
	ARN         string `json:"agentRuntimeArn"`
	Version     string `json:"agentRuntimeVersion"`
	Status      string `json:"status"`
	Description string `json:"description,omitempty"`
	UpdatedAt   string `json:"lastUpdatedAt,omitempty"`
}

// endpointView is one endpoint as status prints it.
type endpointView struct {
	Name          string `json:"name"`
	Status        string `json:"status"`
	LiveVersion   string `json:"liveVersion,omitempty"`
	TargetVersion string `json:"targetVersion,omitempty"`
	ARN           string `json:"agentRuntimeEndpointArn"`
}

// runtimeDetail is status --name's answer.
type runtimeDetail struct {
	runtimeView
	FailureReason string         `json:"failureReason,omitempty"`
	Versions      []runtimeView  `json:"versions"`
	Endpoints     []endpointView `json:"endpoints"`
}

func newStatusCmd(g *globals, stdout io.Writer) *cobra.Command {
	var name string
	var all bool
	cmd := &cobra.Command{
		Use:   "status [--name NAME | --all]",
		Short: "Show an agent runtime with its versions and endpoints, or list them all",
		Long: `Show one agent runtime in detail: --name, else the one .berth.yaml in the current directory
names. Without either, or with --all, list every runtime of the server.`,
		Example: `  berth status
  berth status --all
  berth status --name hello -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			asJSON, err := g.json()
			if err != nil {
				return err
			}
			if name == "" && !all {
				if name, err = runtimeName("", ""); err != nil && !isNoProject(err) {
					return err
				}
			}
			a, err := g.api(cmd.Context())
			if err != nil {
				return err
			}
			if name == "" || all {
				return friendly(listRuntimes(cmd.Context(), a, asJSON, stdout), a.endpoint)
			}
			return friendly(showRuntime(cmd.Context(), a, name, asJSON, stdout), a.endpoint)
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "show this runtime in detail (default: .berth.yaml's)")
	cmd.Flags().BoolVar(&all, "all", false, "list every runtime, even in a project directory")
	return cmd
}

func listRuntimes(ctx context.Context, a *api, asJSON bool, stdout io.Writer) error {
	views := []runtimeView{}
	p := cp.NewListAgentRuntimesPaginator(a.control, &cp.ListAgentRuntimesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, r := range page.AgentRuntimes {
			views = append(views, viewRuntime(r))
		}
	}
	if asJSON {
		return writeJSON(stdout, struct {
			Runtimes []runtimeView `json:"agentRuntimes"`
		}{views})
	}
	if len(views) == 0 {
		fmt.Fprintln(stdout, "No agent runtimes. Deploy one with 'berth deploy'.")
		return nil
	}
	rows := make([][]string, 0, len(views))
	for _, v := range views {
		rows = append(rows, []string{v.Name, v.ID, v.Version, v.Status, v.UpdatedAt})
	}
	return writeTable(stdout, []string{"NAME", "ID", "VERSION", "STATUS", "UPDATED"}, rows)
}

func showRuntime(ctx context.Context, a *api, name string, asJSON bool, stdout io.Writer) error {
	d, err := describeRuntime(ctx, a, name)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(stdout, d)
	}
	if err := writeFields(stdout, "Name", d.Name, "ID", d.ID, "ARN", d.ARN, "Version", d.Version,
		"Status", d.Status, "Updated", d.UpdatedAt, "Failure", d.FailureReason); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "\nVersions:")
	rows := [][]string{}
	for _, v := range d.Versions {
		rows = append(rows, []string{v.Version, v.Status, v.UpdatedAt})
	}
	if err := writeTable(stdout, []string{"VERSION", "STATUS", "UPDATED"}, rows); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "\nEndpoints:")
	rows = [][]string{}
	for _, e := range d.Endpoints {
		rows = append(rows, []string{e.Name, e.Status, e.LiveVersion, e.TargetVersion})
	}
	return writeTable(stdout, []string{"NAME", "STATUS", "LIVE", "TARGET"}, rows)
}

// describeRuntime gathers a runtime with its versions and endpoints.
func describeRuntime(ctx context.Context, a *api, name string) (runtimeDetail, error) {
	rt, err := a.mustFindRuntime(ctx, name)
	if err != nil {
		return runtimeDetail{}, err
	}
	id := rt.AgentRuntimeId
	got, err := a.control.GetAgentRuntime(ctx, &cp.GetAgentRuntimeInput{AgentRuntimeId: id})
	if err != nil {
		return runtimeDetail{}, err
	}
	d := runtimeDetail{
		runtimeView: runtimeView{
			Name: aws.ToString(got.AgentRuntimeName), ID: aws.ToString(got.AgentRuntimeId), ARN: aws.ToString(got.AgentRuntimeArn),
			Version: aws.ToString(got.AgentRuntimeVersion), Status: string(got.Status), Description: aws.ToString(got.Description),
			UpdatedAt: stamp(got.LastUpdatedAt),
		},
		FailureReason: aws.ToString(got.FailureReason), Versions: []runtimeView{}, Endpoints: []endpointView{},
	}
	vp := cp.NewListAgentRuntimeVersionsPaginator(a.control, &cp.ListAgentRuntimeVersionsInput{AgentRuntimeId: id})
	for vp.HasMorePages() {
		page, err := vp.NextPage(ctx)
		if err != nil {
			return d, err
		}
		for _, v := range page.AgentRuntimes {
			d.Versions = append(d.Versions, viewRuntime(v))
		}
	}
	ep := cp.NewListAgentRuntimeEndpointsPaginator(a.control, &cp.ListAgentRuntimeEndpointsInput{AgentRuntimeId: id})
	for ep.HasMorePages() {
		page, err := ep.NextPage(ctx)
		if err != nil {
			return d, err
		}
		for _, e := range page.RuntimeEndpoints {
			d.Endpoints = append(d.Endpoints, endpointView{
				Name: aws.ToString(e.Name), Status: string(e.Status), LiveVersion: aws.ToString(e.LiveVersion),
				TargetVersion: aws.ToString(e.TargetVersion), ARN: aws.ToString(e.AgentRuntimeEndpointArn),
			})
		}
	}
	return d, nil
}

func viewRuntime(r types.AgentRuntime) runtimeView {
	return runtimeView{
		Name: aws.ToString(r.AgentRuntimeName), ID: aws.ToString(r.AgentRuntimeId), ARN: aws.ToString(r.AgentRuntimeArn),
		Version: aws.ToString(r.AgentRuntimeVersion), Status: string(r.Status), Description: aws.ToString(r.Description),
		UpdatedAt: stamp(r.LastUpdatedAt),
	}
}

// stamp formats a time the way the server's session records do (UTC, milliseconds).
func stamp(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}
