package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dtypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/google/go-cmp/cmp"

	"berth.dev/berth/test/testagent"
)

// commandResult is what the SDK read from one InvokeAgentRuntimeCommand event stream.
type commandResult struct {
	Events      []string // "start", "stdout", "stderr", "stop", in arrival order
	Stdout      string
	Stderr      string
	ExitCode    int32
	Status      dtypes.CommandExecutionStatus
	Err         error  // the stream's error: a typed exception, or a request error
	SessionID   string // response headers
	ContentType string
}

// runCommand calls InvokeAgentRuntimeCommand and reads its whole event stream; onDelta, if
// set, sees every delta as it arrives.
//
// The AWS Go SDK (bedrockagentcore v1.56.2) reads event streams through an asynchronous
// pipeline that, a few times in a hundred here, closes its own connection right after the
// first event: the read fails with net.ErrClosed, an error only a locally closed socket
// gives. That one client-side failure, seen before any command output, is retried (twice at
// most); anything the server could cause — a reset, an EOF, missing or wrong events — fails.
func runCommand(c *bedrockagentcore.Client, arn, session, command string, timeout *int32, onDelta func(dtypes.ContentDeltaEvent)) commandResult {
	var res commandResult
	for range 3 {
		res = runCommandOnce(c, arn, session, command, timeout, onDelta)
		if !errors.Is(res.Err, net.ErrClosed) || len(res.Events) > 1 {
			break
		}
	}
	return res
}

func runCommandOnce(c *bedrockagentcore.Client, arn, session, command string, timeout *int32, onDelta func(dtypes.ContentDeltaEvent)) commandResult {
	in := &bedrockagentcore.InvokeAgentRuntimeCommandInput{
		AgentRuntimeArn: aws.String(arn),
		Body:            &dtypes.InvokeAgentRuntimeCommandRequestBody{Command: aws.String(command), Timeout: timeout},
	}
	if session != "" {
		in.RuntimeSessionId = aws.String(session)
	}
	out, err := c.InvokeAgentRuntimeCommand(context.Background(), in)
	if err != nil {
		return commandResult{Err: err}
	}
	stream := out.GetStream()
	defer func() { _ = stream.Close() }()
	var res commandResult
	for ev := range stream.Events() {
		chunk, ok := ev.(*dtypes.InvokeAgentRuntimeCommandStreamOutputMemberChunk)
		if !ok {
			res.Events = append(res.Events, fmt.Sprintf("unexpected %T", ev))
			continue
		}
		switch v := chunk.Value; {
		case v.ContentStart != nil:
			res.Events = append(res.Events, "start")
		case v.ContentDelta != nil:
			if s := v.ContentDelta.Stdout; s != nil {
				res.Stdout += *s
				res.Events = append(res.Events, "stdout")
			}
			if s := v.ContentDelta.Stderr; s != nil {
				res.Stderr += *s
				res.Events = append(res.Events, "stderr")
			}
			if onDelta != nil {
				onDelta(*v.ContentDelta)
			}
		case v.ContentStop != nil:
			res.Events = append(res.Events, "stop")
			res.ExitCode, res.Status = aws.ToInt32(v.ContentStop.ExitCode), v.ContentStop.Status
		default:
			res.Events = append(res.Events, "empty chunk")
		}
	}
	res.Err = stream.Err()
	// This SDK version does not fill the reply's members from the response headers of a
	// restJson1 event stream; the raw response has them.
	reply := <-out.GetInitialReply()
	if raw, ok := awsmiddleware.GetRawResponse(reply.ResultMetadata).(*smithyhttp.Response); ok {
		res.SessionID = raw.Header.Get("X-Amzn-Bedrock-AgentCore-Runtime-Session-Id")
		res.ContentType = raw.Header.Get("Content-Type")
	}
	return res
}

// TestInvokeCommand_ExitCodeAndOutputs: the SDK reads contentStart, the command's stdout
// and stderr, and contentStop with its exit code and COMPLETED.
func TestInvokeCommand_ExitCodeAndOutputs(t *testing.T) {
	ts := startServer(t)
	rt := ts.deployPython(t, "cmd_agent", nil)
	c := ts.Data()
	s := sid("cmd")
	res := runCommand(c, rt.ARN, s, "echo out; echo err >&2; exit 3", nil, nil)
	if res.Err != nil {
		t.Fatalf("stream error: %v", res.Err)
	}
	if res.Stdout != "out\n" || res.Stderr != "err\n" {
		t.Errorf("stdout %q stderr %q, want %q and %q", res.Stdout, res.Stderr, "out\n", "err\n")
	}
	if res.ExitCode != 3 || res.Status != dtypes.CommandExecutionStatusCompleted {
		t.Errorf("contentStop exitCode %d status %s, want 3 COMPLETED", res.ExitCode, res.Status)
	}
	kinds := map[string]int{}
	for _, e := range res.Events {
		kinds[e]++
	}
	if first, last := res.Events[0], res.Events[len(res.Events)-1]; first != "start" || last != "stop" ||
		kinds["start"] != 1 || kinds["stop"] != 1 || kinds["stdout"]+kinds["stderr"] != len(res.Events)-2 {
		t.Errorf("events %v, want start, stdout/stderr deltas, stop", res.Events)
	}
	if res.SessionID != s || res.ContentType != "application/vnd.amazon.eventstream" {
		t.Errorf("session header %q content type %q, want %q and the event-stream type", res.SessionID, res.ContentType, s)
	}
	// The command ran in the session's sandbox: it sees the agent's environment.
	env := runCommand(c, rt.ARN, s, `printf %s "$AWS_REGION:$PORT"`, nil, nil)
	if env.Err != nil || env.Stdout != "us-east-1:8080" || env.ExitCode != 0 {
		t.Errorf("environment in the session: %+v", env)
	}
	// Without a session id the SDK fills one in (it is an idempotency token).
	gen := runCommand(c, rt.ARN, "", "true", nil, nil)
	if gen.Err != nil || gen.Status != dtypes.CommandExecutionStatusCompleted || len(gen.SessionID) < 33 {
		t.Errorf("command without a session id: %+v", gen)
	}
}

// TestInvokeCommand_Timeout: a command that outlives its timeout is killed and ends
// TIMED_OUT, long before it would have finished.
func TestInvokeCommand_Timeout(t *testing.T) {
	ts := startServer(t)
	rt := ts.deployPython(t, "cmd_timeout", nil)
	c := ts.Data()
	s := sid("timeout")
	_ = runCommand(c, rt.ARN, s, "true", nil, nil) // start the session first
	start := time.Now()
	res := runCommand(c, rt.ARN, s, "echo before; sleep 10; echo after", aws.Int32(1), nil)
	took := time.Since(start)
	if res.Err != nil {
		t.Fatalf("stream error: %v", res.Err)
	}
	if res.Status != dtypes.CommandExecutionStatusTimedOut || res.ExitCode != -1 {
		t.Errorf("contentStop exitCode %d status %s, want -1 TIMED_OUT", res.ExitCode, res.Status)
	}
	if res.Stdout != "before\n" {
		t.Errorf("stdout %q, want only the output before the kill", res.Stdout)
	}
	if took > 8*time.Second {
		t.Errorf("the timed-out command took %v; the 10 s sleep was not killed", took)
	}
	// The session survives a timed-out command.
	if after := runCommand(c, rt.ARN, s, "echo alive", nil, nil); after.Stdout != "alive\n" {
		t.Errorf("command after the timeout: %+v", after)
	}
}

// TestInvokeCommand_Streams: output reaches the caller while the command runs. The command
// prints, then waits for a file that only a second command, started when the first output
// arrives, creates; with buffered output it would never finish (and end TIMED_OUT).
func TestInvokeCommand_Streams(t *testing.T) {
	ts := startServer(t)
	rt := ts.deployPython(t, "cmd_stream", nil)
	c := ts.Data()
	s := sid("stream")
	// A second client: smithy-go v1.28.8 shares one event-stream decoder per client, so two
	// streams read at once on one client race.
	c2 := ts.Data()
	released := make(chan commandResult, 1)
	res := runCommand(c, rt.ARN, s, "echo waiting; while [ ! -e go ]; do sleep 0.05; done; echo released", aws.Int32(30),
		func(d dtypes.ContentDeltaEvent) {
			if aws.ToString(d.Stdout) == "waiting\n" {
				go func() { released <- runCommand(c2, rt.ARN, s, "touch go", nil, nil) }()
			}
		})
	if res.Err != nil || res.Status != dtypes.CommandExecutionStatusCompleted || res.Stdout != "waiting\nreleased\n" {
		t.Errorf("first command: %+v", res)
	}
	if touch := <-released; touch.Err != nil || touch.ExitCode != 0 {
		t.Errorf("second command: %+v", touch)
	}
}

// TestInvokeCommand_SessionFiles: a command sees the files the agent wrote in its own
// session, not those of another session (code zips get a working directory per session).
func TestInvokeCommand_SessionFiles(t *testing.T) {
	ts := startServer(t)
	rt := ts.deployPython(t, "cmd_files", nil)
	c := ts.Data()
	a, b := sid("files-a"), sid("files-b")
	invokeJSON(t, c, rt.ARN, a, `{"op":"write","name":"a.txt","content":"written in a"}`)
	invokeJSON(t, c, rt.ARN, b, `{"op":"write","name":"b.txt","content":"written in b"}`)
	cases := []struct {
		session, command string
		stdout           string
		exit             int32
	}{
		{a, "cat a.txt", "written in a", 0},
		{b, "cat b.txt", "written in b", 0},
		{a, "cat b.txt", "", 1},
		{b, "cat a.txt", "", 1},
	}
	for _, tc := range cases {
		t.Run(tc.session[:16]+tc.command, func(t *testing.T) {
			res := runCommand(c, rt.ARN, tc.session, tc.command, nil, nil)
			if res.Err != nil {
				t.Fatalf("stream error: %v", res.Err)
			}
			if res.Stdout != tc.stdout || res.ExitCode != tc.exit || res.Status != dtypes.CommandExecutionStatusCompleted {
				t.Errorf("stdout %q exit %d status %s, want %q exit %d COMPLETED (stderr %q)",
					res.Stdout, res.ExitCode, res.Status, tc.stdout, tc.exit, res.Stderr)
			}
			if tc.exit != 0 && !strings.Contains(res.Stderr, "No such file") {
				t.Errorf("stderr %q, want cat's complaint", res.Stderr)
			}
		})
	}
}

// TestInvokeCommand_Errors: invalid bodies are one typed ValidationException naming every
// violated member; an unknown runtime is ResourceNotFoundException; a sandbox without a
// shell reports a RuntimeClientError inside the stream.
func TestInvokeCommand_Errors(t *testing.T) {
	ts := startServer(t)
	rt := ts.deployPython(t, "cmd_errors", nil)
	c := ts.Data()
	validation := []struct {
		name    string
		command string
		timeout *int32
		fields  []string
	}{
		{"empty command", "", nil, []string{"body.command"}},
		{"timeout 0", "true", aws.Int32(0), []string{"body.timeout"}},
		{"timeout 3601", "true", aws.Int32(3601), []string{"body.timeout"}},
		{"both", "", aws.Int32(-5), []string{"body.command", "body.timeout"}},
		{"command too long", strings.Repeat("x", 65537), nil, []string{"body.command"}},
	}
	for _, tc := range validation {
		t.Run(tc.name, func(t *testing.T) {
			res := runCommand(c, rt.ARN, sid("invalid"), tc.command, tc.timeout, nil)
			ve := asType[*dtypes.ValidationException](t, res.Err)
			var got []string
			for _, f := range ve.FieldList {
				got = append(got, aws.ToString(f.Name))
			}
			if diff := cmp.Diff(tc.fields, got); diff != "" {
				t.Errorf("fieldList (-want +got):\n%s", diff)
			}
			if len(res.Events) != 0 {
				t.Errorf("events %v before the error", res.Events)
			}
		})
	}
	if got := ts.sessions(t, "runtimeSessionId="+sid("invalid")); len(got) != 0 {
		t.Errorf("an invalid command started a session: %+v", got)
	}
	missing := runCommand(c, strings.Replace(rt.ARN, rt.ID, "nosuch-0123456789", 1), sid("x"), "true", nil, nil)
	_ = asType[*dtypes.ResourceNotFoundException](t, missing.Err)

	// The general test agent image holds only /agent: there is no /bin/sh to run.
	img := ts.deployImage(t, "cmd_noshell", testagent.Image(t), nil)
	res := runCommand(c, img.ARN, sid("noshell"), "true", nil, nil)
	rce := asType[*dtypes.RuntimeClientError](t, res.Err)
	if !strings.Contains(aws.ToString(rce.Message), "/bin/sh") {
		t.Errorf("message %q does not name the missing shell", aws.ToString(rce.Message))
	}
	if diff := cmp.Diff([]string{"start"}, res.Events); diff != "" {
		t.Errorf("events before the exception (-want +got):\n%s", diff)
	}
}

// TestInvoke_CustomPortAndPath: protocolConfiguration.port and path are honoured: the
// agent gets PORT, listens there, and is invoked on its own path.
func TestInvoke_CustomPortAndPath(t *testing.T) {
	ts := startServer(t)
	rt := ts.deployImage(t, "custom_port", testagent.Image(t, "INVOCATIONS_PATH=/custom/run"), func(in *cp.CreateAgentRuntimeInput) {
		in.ProtocolConfiguration = &types.ProtocolConfiguration{
			ServerProtocol: types.ServerProtocolHttp, Port: aws.Int32(8123), Path: aws.String("/custom/run"),
		}
	})
	c := ts.Data()
	s := sid("port")
	if n := count(t, c, rt.ARN, s); n != 1 {
		t.Errorf("count %d, want 1", n)
	}
	m, _ := invokeJSON(t, c, rt.ARN, s, `{"op":"env"}`)
	var port string
	for _, kv := range m["env"].([]any) {
		if v, ok := strings.CutPrefix(kv.(string), "PORT="); ok {
			port = v
		}
	}
	if port != "8123" {
		t.Errorf("PORT = %q, want 8123", port)
	}
}
