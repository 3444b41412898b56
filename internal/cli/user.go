package cli

import (
	"io"

	"github.com/spf13/cobra"
)

// userCommands are the commands that talk to a running server through its API: deploy,
// invoke, status, sessions, usage and destroy. They share the global flags (--endpoint,
// --credentials, --profile, --region, -o). There is no logs command: the server exposes no
// session-log route yet.
func userCommands(stdout, stderr io.Writer) []*cobra.Command {
	g := &globals{}
	cmds := []*cobra.Command{
		newDeployCmd(g, stdout),
		newInvokeCmd(g, stdout, stderr),
		newStatusCmd(g, stdout),
		newSessionsCmd(g, stdout),
		newUsageCmd(g, stdout),
		newDestroyCmd(g, stdout),
	}
	for _, c := range cmds {
		g.register(c)
	}
	return cmds
}
