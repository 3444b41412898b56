package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	data "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dtypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	"github.com/spf13/cobra"
)

// execResult is what exec prints with -o json (the text output streams instead).
type execResult struct {
	Session  string `json:"runtimeSessionId"`
	Stdout   string `json:"stdout"`
	Stderr   string `json:"stderr"`
	ExitCode int32  `json:"exitCode"`
	Status   string `json:"status"`
}

type execFlags struct {
	name, arn, session, qualifier string
	newSession                    bool
	timeout                       int32
}

func newExecCmd(g *globals, stdout, stderr io.Writer) *cobra.Command {
	var f execFlags
	cmd := &cobra.Command{
		Use:   "exec [--name NAME] [--session ID] -- COMMAND [ARG...]",
		Short: "Run a shell command inside an agent's session and pass on its exit code",
		Long: `Run a command inside a session's sandbox (InvokeAgentRuntimeCommand), beside the agent,
with the agent's environment; the session is started if it is not running. Its stdout and
stderr are printed as they arrive, and berth exits with the command's exit code.

One COMMAND argument is a shell command line ('ls -l | wc -l'); several are words, quoted
for the shell. The session is the one 'berth invoke' last used here unless --session or
--new-session says otherwise, and is remembered like invoke's. -o json prints one document
with stdout, stderr and the exit code once the command ends.`,
		Example: `  berth exec -- ls -la
  berth exec -- 'cat /proc/self/status | head -3'
  berth exec --name hello --new-session --timeout 30 -- python3 -c 'print(1)'`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, asJSON, err := g.connect(cmd.Context())
			if err != nil {
				return err
			}
			res, err := execCommand(cmd.Context(), a, f, shellCommand(args), asJSON, stdout, stderr)
			if err != nil {
				return friendly(err, a.endpoint)
			}
			if asJSON {
				if err := writeJSON(stdout, res); err != nil {
					return err
				}
			}
			if res.Status == string(dtypes.CommandExecutionStatusTimedOut) {
				return hintError{fmt.Errorf("the command timed out after %d seconds", f.timeout), "raise --timeout (at most 3600)"}
			}
			if res.ExitCode != 0 {
				return exitCodeError{code: exitCode(res.ExitCode)}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.name, "name", "", "agent runtime name (default: .berth.yaml's)")
	fl.StringVar(&f.arn, "arn", "", "agent runtime ARN (instead of --name)")
	fl.StringVarP(&f.session, "session", "s", "", "runtime session id (default: the last one used here, else a new one)")
	fl.BoolVar(&f.newSession, "new-session", false, "start a new session instead of reusing the last one")
	fl.StringVar(&f.qualifier, "qualifier", "", "endpoint name or version (default DEFAULT)")
	fl.Int32Var(&f.timeout, "timeout", 300, "seconds the command may run (1–3600)")
	return cmd
}

// exitCode maps a command's exit code to berth's: the same when it fits 1–255, else 1.
func exitCode(c int32) int {
	if c > 0 && c < 256 {
		return int(c)
	}
	return 1
}

// shellCommand is args as one shell command line: a single argument as it is, several
// quoted word by word.
func shellCommand(args []string) string {
	if len(args) == 1 {
		return args[0]
	}
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = shellQuote(a)
	}
	return strings.Join(quoted, " ")
}

// shellQuote quotes s for a POSIX shell unless it is plainly safe.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@%+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func execCommand(ctx context.Context, a *api, f execFlags, command string, asJSON bool, stdout, stderr io.Writer) (execResult, error) {
	arn, err := runtimeARN(ctx, a, f.name, f.arn, "berth exec --name my_agent -- ls")
	if err != nil {
		return execResult{}, err
	}
	state, err := loadState()
	if err != nil {
		return execResult{}, err
	}
	sid := sessionFor(state, arn, f.session, f.newSession)
	in := &data.InvokeAgentRuntimeCommandInput{
		AgentRuntimeArn:  aws.String(arn),
		RuntimeSessionId: aws.String(sid),
		Body:             &dtypes.InvokeAgentRuntimeCommandRequestBody{Command: aws.String(command), Timeout: aws.Int32(f.timeout)},
	}
	if f.qualifier != "" {
		in.Qualifier = aws.String(f.qualifier)
	}
	// One attempt only: a retried request would run the command twice.
	out, err := a.data.InvokeAgentRuntimeCommand(ctx, in, func(o *data.Options) { o.RetryMaxAttempts = 1 })
	if err != nil {
		return execResult{}, err
	}
	stream := out.GetStream()
	defer func() { _ = stream.Close() }()
	if !asJSON {
		if err := rememberSession(state, io.Discard, arn, sid); err != nil {
			return execResult{}, err
		}
	}
	res := execResult{Session: sid}
	var outB, errB strings.Builder
	stopped := false
	for ev := range stream.Events() {
		chunk, ok := ev.(*dtypes.InvokeAgentRuntimeCommandStreamOutputMemberChunk)
		if !ok {
			continue
		}
		switch v := chunk.Value; {
		case v.ContentDelta != nil:
			if s := v.ContentDelta.Stdout; s != nil {
				outB.WriteString(*s)
				if !asJSON {
					_, _ = io.WriteString(stdout, *s)
				}
			}
			if s := v.ContentDelta.Stderr; s != nil {
				errB.WriteString(*s)
				if !asJSON {
					_, _ = io.WriteString(stderr, *s)
				}
			}
		case v.ContentStop != nil:
			res.ExitCode, res.Status, stopped = aws.ToInt32(v.ContentStop.ExitCode), string(v.ContentStop.Status), true
		}
	}
	res.Stdout, res.Stderr = outB.String(), errB.String()
	if err := stream.Err(); err != nil {
		if errors.Is(err, net.ErrClosed) && !stopped {
			return res, hintError{fmt.Errorf("the command's output stream closed before it ended: %w", err),
				"the command may have run; 'berth exec' again shows the session's state"}
		}
		return res, fmt.Errorf("command output: %w", err)
	}
	if !stopped {
		return res, hintError{errors.New("the command's output ended without an exit code"), "'berth sessions' shows whether the session is still there"}
	}
	if asJSON {
		return res, rememberSession(state, io.Discard, arn, sid)
	}
	return res, nil
}
