package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	data "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/google/uuid"
	"github.com/spf13/cobra"
)

// customHeaderPrefix is the prefix AgentCore forwards to agents (AGENTCORE-WIRE.md §2);
// --header names without it get it, as the starter toolkit's --headers does.
const customHeaderPrefix = "X-Amzn-Bedrock-AgentCore-Runtime-Custom-"

type invokeFlags struct {
	name, arn, session, qualifier, file string
	newSession                          bool
	headers                             []string
}

func newInvokeCmd(g *globals, stdout, stderr io.Writer) *cobra.Command {
	var f invokeFlags
	cmd := &cobra.Command{
		Use:   "invoke (--name NAME | --arn ARN) ['<json>' | --file F]",
		Short: "Invoke an agent and stream its answer",
		Long: `Invoke an agent runtime with a payload and print its answer as it arrives.

A text/event-stream answer is printed one line per "data:" line, each as soon as the agent
sends it; any other answer is printed as is. The session id goes to stderr.

Without --session, invoke reuses the last session id it used with the runtime from this
directory (remembered in .berth/state.json), so consecutive invocations share a sandbox;
--new-session starts a fresh one.`,
		Example: `  berth invoke --name hello '{"prompt": "hi"}'
  berth invoke --name hello --new-session --file payload.json
  berth invoke --arn arn:aws:bedrock-agentcore:us-east-1:000000000000:runtime/hello-abc --header Tenant:acme '{}'`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			payload, err := readPayload(args, f.file, cmd.InOrStdin())
			if err != nil {
				return err
			}
			a, err := g.api(cmd.Context())
			if err != nil {
				return err
			}
			return friendly(invoke(cmd.Context(), a, f, payload, stdout, stderr), a.endpoint)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.name, "name", "", "agent runtime name")
	fl.StringVar(&f.arn, "arn", "", "agent runtime ARN (instead of --name)")
	fl.StringVarP(&f.session, "session", "s", "", "runtime session id (default: the last one used here, else a new one)")
	fl.BoolVar(&f.newSession, "new-session", false, "start a new session instead of reusing the last one")
	fl.StringVar(&f.qualifier, "qualifier", "", "endpoint name or version (default DEFAULT)")
	fl.StringArrayVar(&f.headers, "header", nil, "header Name:value sent to the agent (repeatable; Name gets the "+customHeaderPrefix+" prefix)")
	fl.StringVarP(&f.file, "file", "f", "", "read the payload from a file (- for stdin)")
	return cmd
}

// readPayload takes the payload from the argument or --file, never both.
func readPayload(args []string, file string, stdin io.Reader) ([]byte, error) {
	switch {
	case len(args) == 1 && file != "":
		return nil, hintError{errors.New("give the payload as an argument or with --file, not both"), "drop one of them"}
	case len(args) == 1:
		return []byte(args[0]), nil
	case file == "-":
		b, err := io.ReadAll(stdin)
		if err != nil {
			return nil, fmt.Errorf("read payload from stdin: %w", err)
		}
		return b, nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, hintError{fmt.Errorf("read payload: %w", err), "--file takes a path, or - for stdin"}
		}
		return b, nil
	}
	return nil, hintError{errors.New("invoke needs a payload"), `for example: berth invoke --name my_agent '{"prompt": "hi"}'`}
}

func invoke(ctx context.Context, a *api, f invokeFlags, payload []byte, stdout, stderr io.Writer) error {
	arn := f.arn
	switch {
	case arn != "" && f.name != "":
		return hintError{errors.New("give --name or --arn, not both"), "drop one of them"}
	case arn == "" && f.name == "":
		return hintError{errors.New("invoke needs --name or --arn"), "'berth status' lists the runtimes"}
	case arn == "":
		rt, err := a.mustFindRuntime(ctx, f.name)
		if err != nil {
			return err
		}
		arn = aws.ToString(rt.AgentRuntimeArn)
	}
	headers, err := parseHeaders(f.headers)
	if err != nil {
		return err
	}
	state, err := loadState()
	if err != nil {
		return err
	}
	sid := f.session
	if sid == "" && !f.newSession {
		sid = state.Sessions[arn]
	}
	if sid == "" {
		sid = uuid.NewString() // 36 characters: AgentCore wants at least 33
	}
	in := &data.InvokeAgentRuntimeInput{
		AgentRuntimeArn:  aws.String(arn),
		RuntimeSessionId: aws.String(sid),
		ContentType:      aws.String("application/json"),
		Accept:           aws.String("text/event-stream, application/json"),
		Payload:          payload,
	}
	if f.qualifier != "" {
		in.Qualifier = aws.String(f.qualifier)
	}
	out, err := a.data.InvokeAgentRuntime(ctx, in, func(o *data.Options) {
		for _, h := range headers {
			o.APIOptions = append(o.APIOptions, smithyhttp.AddHeaderValue(h[0], h[1]))
		}
	})
	if err != nil {
		return err
	}
	defer func() { _ = out.Response.Close() }()
	if got := aws.ToString(out.RuntimeSessionId); got != "" {
		sid = got
	}
	fmt.Fprintf(stderr, "Session: %s\n", sid)
	state.Sessions[arn] = sid
	if err := state.save(); err != nil {
		return err
	}
	if strings.HasPrefix(aws.ToString(out.ContentType), "text/event-stream") {
		return copySSE(stdout, out.Response)
	}
	return copyBody(stdout, out.Response)
}

// parseHeaders turns Name:value flags into header pairs, prefixing custom names.
func parseHeaders(hs []string) ([][2]string, error) {
	var out [][2]string
	for _, h := range hs {
		k, v, ok := strings.Cut(h, ":")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, hintError{fmt.Errorf("--header %q is not Name:value", h), "for example: --header Tenant:acme"}
		}
		out = append(out, [2]string{customHeaderName(k), strings.TrimSpace(v)})
	}
	return out, nil
}

// customHeaderName prefixes a bare header name with customHeaderPrefix; names already in
// AgentCore's X-Amzn-Bedrock-AgentCore-Runtime- family, and Authorization, are kept.
func customHeaderName(k string) string {
	if strings.HasPrefix(strings.ToLower(k), "x-amzn-bedrock-agentcore-runtime-") || strings.EqualFold(k, "Authorization") {
		return k
	}
	return customHeaderPrefix + k
}
