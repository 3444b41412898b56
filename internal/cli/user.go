package cli

import (
	"io"

	"github.com/spf13/cobra"
)

// userCommands are the commands for agent developers: the project ones (configure, dev,
// local) and those that talk to a running server through its API. They share the global
// flags g (--endpoint, --credentials, --profile, --region, --local, -o), which the root
// command registers.
func userCommands(g *globals, stdout, stderr io.Writer) []*cobra.Command {
	return []*cobra.Command{
		newConfigureCmd(g, stdout),
		newDevCmd(stdout, stderr),
		newDeployCmd(g, stdout, stderr),
		newInvokeCmd(g, stdout, stderr),
		newStatusCmd(g, stdout),
		newVersionsCmd(g, stdout),
		newEndpointsCmd(g, stdout),
		newSessionsCmd(g, stdout),
		newUsageCmd(g, stdout),
		newTracesCmd(g, stdout),
		newLogsCmd(g, stdout),
		newStopSessionCmd(g, stdout),
		newExecCmd(g, stdout, stderr),
		newPushCmd(g, stdout),
		newDestroyCmd(g, stdout),
		newLocalCmd(g, stdout),
	}
}
