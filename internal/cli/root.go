// Package cli is the berth command tree (cobra). It parses flags, builds the root logger and
// calls into internal/server for `berth server`. The developer commands work on the project
// in the current directory (.berth.yaml, .berth/) and talk to a server only through its API:
// the AWS SDK's clients and internal/client for Berth's own routes. `berth deploy --local`
// starts this same binary as a background server for the project.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// Version is the build's version, set with -ldflags "-X berth.dev/berth/internal/cli.Version=…".
var Version = "dev"

// Main runs the CLI with args and returns the process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	var ec exitCodeError
	if errors.As(err, &ec) {
		return ec.code
	}
	msg, hint := explain(err, cmd)
	fmt.Fprintln(stderr, "Error:", msg)
	if hint != "" {
		fmt.Fprintln(stderr, "Hint:", hint)
	}
	return 1
}

// usageErrors start the messages of cobra's own errors: a mistyped command, flag or
// argument count.
var usageErrors = []string{"unknown command", "unknown flag", "unknown shorthand flag", "flag needs an argument",
	"invalid argument", "bad flag syntax", "accepts ", "requires at least", "requires at most", "requires exactly"}

// explain is the one error line and the hint for err: the hint it carries, else for a
// usage error cobra's suggestions or where the usage is, so every error prints as one line
// and a hint.
func explain(err error, cmd *cobra.Command) (string, string) {
	msg, rest, _ := strings.Cut(err.Error(), "\n")
	var he hintError
	if errors.As(err, &he) {
		return msg, he.hint
	}
	usage := false
	for _, p := range usageErrors {
		usage = usage || strings.HasPrefix(msg, p)
	}
	if !usage {
		return msg, ""
	}
	if s := strings.Fields(strings.TrimPrefix(strings.TrimSpace(rest), "Did you mean this?")); len(s) > 0 {
		return msg, "did you mean " + strings.Join(s, " or ") + "? 'berth --help' lists the commands"
	}
	path := "berth"
	if cmd != nil {
		path = cmd.CommandPath()
	}
	return msg, "'" + path + " --help' shows the usage"
}

// hintError carries a suggestion printed under the error.
type hintError struct {
	err  error
	hint string
}

func (h hintError) Error() string { return h.err.Error() }
func (h hintError) Unwrap() error { return h.err }

// exitCodeError makes berth exit with code without printing anything: berth exec passes on
// the exit code of the command it ran.
type exitCodeError struct{ code int }

func (e exitCodeError) Error() string { return fmt.Sprintf("exit code %d", e.code) }

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "berth",
		Short: "Berth: a self-hosted runtime for AI agents, compatible with Amazon Bedrock AgentCore",
		Long: `Berth runs AI agents — HTTP, MCP and A2A servers packaged as code zips or OCI images —
one isolated sandbox per session, and speaks Amazon Bedrock AgentCore's wire protocol so
the AWS SDKs and CLIs work against it by changing the endpoint URL.

Prepare the host with 'berth setup', check it with 'berth doctor', and start a server with
'berth server'. Then, in an agent's directory: 'berth configure' writes .berth.yaml,
'berth dev' runs the agent locally with reload, 'berth deploy' deploys it (--local: to a
server of its own started in the background), 'berth invoke' talks to it.

The global flags (--endpoint, --credentials, --profile, --region, --local, -o) go before or
after the command. Shell completion: 'berth completion bash|zsh|fish|powershell --help'.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       Version,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newServerCmd(stdout, stderr), newSetupCmd(stdout), newDoctorCmd(stdout))
	g := &globals{}
	g.register(root)
	root.AddCommand(userCommands(g, stdout, stderr)...)
	return root
}
