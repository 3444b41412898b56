package cli

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

// versionView is one version as versions prints it: the endpoints serving it are named.
type versionView struct {
	runtimeView
	Endpoints []string `json:"endpoints"`
}

func newVersionsCmd(g *globals, stdout io.Writer) *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:   "versions [--name NAME]",
		Short: "List the versions of an agent runtime and the endpoints serving each",
		Long: `List the versions of an agent runtime (ListAgentRuntimeVersions), newest first, with
the endpoints whose live version each one is. Without --name, the runtime is the one
.berth.yaml names. Every deploy makes a version; 'berth endpoints' pins endpoints to them.`,
		Example: `  berth versions
  berth versions --name hello -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			asJSON, err := g.json()
			if err != nil {
				return err
			}
			name, err := runtimeName(name, "berth versions --name my_agent")
			if err != nil {
				return err
			}
			a, err := g.api(cmd.Context())
			if err != nil {
				return err
			}
			d, err := describeRuntime(cmd.Context(), a, name)
			if err != nil {
				return friendly(err, a.endpoint)
			}
			views := make([]versionView, 0, len(d.Versions))
			for _, v := range d.Versions {
				vv := versionView{runtimeView: v, Endpoints: []string{}}
				for _, e := range d.Endpoints {
					if e.LiveVersion == v.Version {
						vv.Endpoints = append(vv.Endpoints, e.Name)
					}
				}
				views = append(views, vv)
			}
			slices.SortFunc(views, func(x, y versionView) int { return versionNumber(y.Version) - versionNumber(x.Version) })
			if asJSON {
				return writeJSON(stdout, struct {
					Name     string        `json:"agentRuntimeName"`
					ID       string        `json:"agentRuntimeId"`
					Versions []versionView `json:"versions"`
				}{d.Name, d.ID, views})
			}
			rows := make([][]string, 0, len(views))
			for _, v := range views {
				rows = append(rows, []string{v.Version, v.Status, v.UpdatedAt, strings.Join(v.Endpoints, ",")})
			}
			fmt.Fprintf(stdout, "%s (%s)\n", d.Name, d.ID)
			return writeTable(stdout, []string{"VERSION", "STATUS", "UPDATED", "ENDPOINTS"}, rows)
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "agent runtime name (default: .berth.yaml's)")
	return cmd
}

// versionNumber is a version's number for sorting (0 when it is not a number).
func versionNumber(v string) int {
	n, _ := strconv.Atoi(v)
	return n
}
