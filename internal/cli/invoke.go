package cli

import (
	"bytes"
	"context"
	"encoding/json"
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

// acceptAnswer is the Accept header of invocations, as the starter toolkit sends it.
const acceptAnswer = "text/event-stream, application/json"

type invokeFlags struct {
	name, arn, session, qualifier, file, contentType, bearer string
	newSession, json                                         bool
	headers                                                  []string
}

// invokeResult is what invoke prints with -o json, once the answer has ended.
type invokeResult struct {
	Session     string            `json:"runtimeSessionId"`
	ContentType string            `json:"contentType"`
	Events      []json.RawMessage `json:"events,omitempty"` // the data of each SSE data line: JSON as it is, anything else as a string
	Body        json.RawMessage   `json:"body,omitempty"`   // any other answer: JSON as it is, anything else as a string
}

func newInvokeCmd(g *globals, stdout, stderr io.Writer) *cobra.Command {
	var f invokeFlags
	cmd := &cobra.Command{
		Use:   "invoke [--name NAME | --arn ARN] ['<payload>' | --file F]",
		Short: "Invoke an agent and stream its answer",
		Long: `Invoke an agent runtime with a payload and print its answer as it arrives.

A text/event-stream answer is printed one line per "data:" line, each as soon as the agent
sends it; any other answer is printed as is. The session id goes to stderr. Without --name
and --arn, the runtime is the one .berth.yaml names.

Without --session, invoke reuses the last session id it used with the runtime from this
directory (remembered in .berth/state.json), so consecutive invocations share a sandbox;
--new-session starts a fresh one. -o json prints one document once the answer has ended:
the session id, the content type, and the SSE events or the body.

The payload is sent as --content-type (default application/json); --file sends a file's
bytes as they are, so binary payloads work with a matching --content-type.

--bearer TOKEN is for runtimes with a customJWTAuthorizer: the request is a plain HTTP(S)
POST to /runtimes/<ARN>/invocations with "Authorization: Bearer TOKEN" instead of a SigV4
signature, as AgentCore's starter toolkit sends it. With --arn it needs no access key.`,
		Example: `  berth invoke '{"prompt": "hi"}'
  berth invoke --name hello --new-session --file payload.json
  berth invoke --name vision --file cat.png --content-type image/png
  berth invoke --name hello --qualifier PROD '{}'
  berth invoke --arn arn:aws:bedrock-agentcore:us-east-1:000000000000:runtime/hello-abc --bearer "$JWT" '{}'`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			asJSON, err := g.json()
			if err != nil {
				return err
			}
			f.json = asJSON
			payload, err := readPayload(args, f.file, cmd.InOrStdin())
			if err != nil {
				return err
			}
			if f.bearer != "" && f.arn != "" {
				if err := g.resolve(); err != nil {
					return err
				}
				return friendly(invokeBearer(cmd.Context(), g.endpoint, f, f.arn, payload, stdout, stderr), g.endpoint)
			}
			a, err := g.api(cmd.Context())
			if err != nil {
				return err
			}
			return friendly(invoke(cmd.Context(), a, f, payload, stdout, stderr), a.endpoint)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.name, "name", "", "agent runtime name (default: .berth.yaml's)")
	fl.StringVar(&f.arn, "arn", "", "agent runtime ARN (instead of --name)")
	fl.StringVarP(&f.session, "session", "s", "", "runtime session id (default: the last one used here, else a new one)")
	fl.BoolVar(&f.newSession, "new-session", false, "start a new session instead of reusing the last one")
	fl.StringVar(&f.qualifier, "qualifier", "", "endpoint name or version (default DEFAULT)")
	fl.StringArrayVar(&f.headers, "header", nil, "header Name:value sent to the agent (repeatable; Name gets the "+customHeaderPrefix+" prefix)")
	fl.StringVarP(&f.file, "file", "f", "", "read the payload from a file (- for stdin)")
	fl.StringVar(&f.contentType, "content-type", "application/json", "media type of the payload")
	fl.StringVar(&f.bearer, "bearer", "", "JWT for a runtime with a customJWTAuthorizer (sent as Authorization: Bearer, no SigV4)")
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

// runtimeARN is --arn, else the ARN of --name, else of .berth.yaml's runtime.
func runtimeARN(ctx context.Context, a *api, name, arn, example string) (string, error) {
	if arn != "" {
		if name != "" {
			return "", hintError{errors.New("give --name or --arn, not both"), "drop one of them"}
		}
		return arn, nil
	}
	name, err := runtimeName(name, example)
	if err != nil {
		return "", err
	}
	rt, err := a.mustFindRuntime(ctx, name)
	if err != nil {
		return "", err
	}
	return aws.ToString(rt.AgentRuntimeArn), nil
}

// sessionFor is --session, else (unless newSession) the session remembered for arn, else a
// new id.
func sessionFor(st cliState, arn, session string, newSession bool) string {
	if session == "" && !newSession {
		session = st.Sessions[arn]
	}
	if session == "" {
		session = uuid.NewString() // 36 characters: AgentCore wants at least 33
	}
	return session
}

func invoke(ctx context.Context, a *api, f invokeFlags, payload []byte, stdout, stderr io.Writer) error {
	arn, err := runtimeARN(ctx, a, f.name, f.arn, `berth invoke --name my_agent '{"prompt": "hi"}'`)
	if err != nil {
		return err
	}
	if f.bearer != "" {
		return invokeBearer(ctx, a.endpoint, f, arn, payload, stdout, stderr)
	}
	headers, err := parseHeaders(f.headers)
	if err != nil {
		return err
	}
	state, err := loadState()
	if err != nil {
		return err
	}
	sid := sessionFor(state, arn, f.session, f.newSession)
	in := &data.InvokeAgentRuntimeInput{
		AgentRuntimeArn:  aws.String(arn),
		RuntimeSessionId: aws.String(sid),
		ContentType:      aws.String(f.contentType),
		Accept:           aws.String(acceptAnswer),
		Payload:          payload,
	}
	if f.qualifier != "" {
		in.Qualifier = aws.String(f.qualifier)
	}
	prog := newProgress(stdout)
	prog.step("Invoking (a new session starts its sandbox first)")
	out, err := a.data.InvokeAgentRuntime(ctx, in, func(o *data.Options) {
		for _, h := range headers {
			o.APIOptions = append(o.APIOptions, smithyhttp.AddHeaderValue(h[0], h[1]))
		}
	})
	prog.clear()
	if err != nil {
		return err
	}
	defer func() { _ = out.Response.Close() }()
	if got := aws.ToString(out.RuntimeSessionId); got != "" {
		sid = got
	}
	if err := rememberSession(state, stderr, arn, sid); err != nil {
		return err
	}
	return printAnswer(stdout, f.json, sid, aws.ToString(out.ContentType), out.Response)
}

// rememberSession prints the session id to stderr and remembers it for arn.
func rememberSession(state cliState, stderr io.Writer, arn, sid string) error {
	fmt.Fprintf(stderr, "Session: %s\n", sid)
	state.Sessions[arn] = sid
	return state.save()
}

// printAnswer prints an answer as it arrives — SSE data lines one per line, anything else
// as it is — or, asJSON, as one invokeResult document once it has ended.
func printAnswer(stdout io.Writer, asJSON bool, sid, contentType string, body io.Reader) error {
	sse := strings.HasPrefix(contentType, "text/event-stream")
	if !asJSON {
		if sse {
			return copySSE(stdout, body)
		}
		return copyBody(stdout, body)
	}
	res := invokeResult{Session: sid, ContentType: contentType}
	if sse {
		var buf bytes.Buffer
		if err := copySSE(&buf, body); err != nil {
			return err
		}
		res.Events = []json.RawMessage{}
		for _, line := range strings.SplitAfter(buf.String(), "\n") {
			if line != "" {
				res.Events = append(res.Events, asJSONValue([]byte(strings.TrimSuffix(line, "\n"))))
			}
		}
	} else {
		raw, err := io.ReadAll(body)
		if err != nil {
			return fmt.Errorf("read answer: %w", err)
		}
		res.Body = asJSONValue(raw)
	}
	return writeJSON(stdout, res)
}

// asJSONValue is raw when it is JSON, else raw as a JSON string.
func asJSONValue(raw []byte) json.RawMessage {
	if json.Valid(raw) {
		return raw
	}
	s, _ := json.Marshal(string(raw))
	return s
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
