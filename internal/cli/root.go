// Package cli is the berth command tree (cobra). It parses flags, builds the root logger and
// calls into internal/server for `berth server`; user commands talk to a server only through
// its API.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// Version is the build's version, set with -ldflags "-X berth.dev/berth/internal/cli.Version=…".
var Version = "dev"

// Main runs the CLI with args and returns the process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "Error:", err)
		var he hintError
		if errors.As(err, &he) && he.hint != "" {
			fmt.Fprintln(stderr, "Hint:", he.hint)
		}
		return 1
	}
	return 0
}

// hintError carries a suggestion printed under the error.
type hintError struct {
	err  error
	hint string
}

func (h hintError) Error() string { return h.err.Error() }
func (h hintError) Unwrap() error { return h.err }

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "berth",
		Short: "Berth: a self-hosted runtime for AI agents, compatible with Amazon Bedrock AgentCore",
		Long: `Berth runs AI agents — HTTP, MCP and A2A servers packaged as code zips or OCI images —
one isolated sandbox per session, and speaks Amazon Bedrock AgentCore's wire protocol so
the AWS SDKs and CLIs work against it by changing the endpoint URL.

Prepare the host with 'berth setup', check it with 'berth doctor', and start a server with
'berth server'.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       Version,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newServerCmd(stdout, stderr), newSetupCmd(stdout), newDoctorCmd(stdout))
	root.AddCommand(userCommands(stdout, stderr)...)
	return root
}
