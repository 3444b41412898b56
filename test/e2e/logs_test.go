package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"

	"berth.dev/berth/internal/cli"
	"berth.dev/berth/test/testagent"
)

// cliLines runs the berth CLI with args against ts in the background and hands over each
// line it prints to stdout as it is printed.
type cliLines struct {
	lines  chan string
	code   chan int
	stderr strings.Builder
}

func (ts *testServer) runCLI(t *testing.T, ctx context.Context, args ...string) *cliLines {
	t.Helper()
	args = append(args, "--endpoint", ts.URL, "--credentials", filepath.Join(ts.DataDir, "credentials"), "--region", "us-east-1")
	c := &cliLines{lines: make(chan string, 1000), code: make(chan int, 1)}
	pr, pw := io.Pipe()
	go func() {
		c.code <- cli.Main(ctx, args, pw, &c.stderr)
		_ = pw.Close()
	}()
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
	}()
	return c
}

// waitLine returns the first line printed (up to 5 s from now) that contains want.
func (c *cliLines) waitLine(t *testing.T, want string) (string, time.Time) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				t.Fatalf("berth logs ended before printing %q; stderr: %s", want, c.stderr.String())
			}
			if strings.Contains(l, want) {
				return l, time.Now()
			}
		case <-deadline:
			t.Fatalf("berth logs printed no line with %q within 5s", want)
		}
	}
}

// TestLogs_FollowShowsAgentLinesAsPrinted: `berth logs -f` prints a line the agent prints
// (on stdout, on stderr, and an unfinished prompt) within a second of it being printed,
// and ends when the session ends; the API answers NDJSON with timestamps, and its errors
// in the AgentCore shape.
func TestLogs_FollowShowsAgentLinesAsPrinted(t *testing.T) {
	ts := startServer(t)
	rt := ts.deployImage(t, "logs_agent", testagent.Image(t), nil)
	c := ts.Data()
	session := sid("logs")
	invokeJSON(t, c, rt.ARN, session, `{"op":"incr"}`)
	recs := ts.sessions(t, "runtimeSessionId="+session)
	if len(recs) != 1 {
		t.Fatalf("%d session records, want 1", len(recs))
	}
	id := recs[0].ID

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	follow := ts.runCLI(t, ctx, "logs", "--session", id, "-f")
	// The agent's start-up line comes first: the follow is running.
	follow.waitLine(t, "testagent listening on")

	printLine := func(stream, content, want string) string {
		t.Helper()
		payload, _ := json.Marshal(map[string]string{"op": "print", "name": stream, "content": content})
		m, _ := invokeJSON(t, c, rt.ARN, session, string(payload))
		printed := time.Unix(0, int64(m["printed_unix_nano"].(float64)))
		// "Within a second" (the partial-line delay is 200 ms; a line takes a few ms), asserted
		// with a bound generous enough for a loaded machine; the latency is logged.
		line, seen := follow.waitLine(t, want)
		t.Logf("%s line reached `berth logs -f` %v after the agent printed it", stream, seen.Sub(printed))
		if late := seen.Sub(printed); late > 5*time.Second {
			t.Errorf("the line took %v to show", late)
		}
		return line
	}
	if line := printLine("stdout", "hello from the agent\n", "hello from the agent"); !strings.HasSuffix(line, "Z hello from the agent") {
		t.Errorf("stdout line printed as %q, want \"<time> hello from the agent\"", line)
	}
	if line := printLine("stderr", "something went wrong\n", "something went wrong"); !strings.HasSuffix(line, "Z stderr: something went wrong") {
		t.Errorf("stderr line printed as %q, want \"<time> stderr: something went wrong\"", line)
	}
	printLine("stdout", "name? ", "name? ") // no newline: shown after the partial-line delay
	at, _, _ := strings.Cut(printLine("stdout", "timed\n", "timed"), " ")
	if when, err := time.Parse(time.RFC3339Nano, at); err != nil || time.Since(when) > time.Minute || time.Since(when) < 0 {
		t.Errorf("line time %q (%v) is not when it was printed", at, err)
	}

	// Ending the session ends the follow.
	if _, err := c.StopRuntimeSession(context.Background(), &bedrockagentcore.StopRuntimeSessionInput{
		AgentRuntimeArn: aws.String(rt.ARN), RuntimeSessionId: aws.String(session),
	}); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-follow.code:
		if code != 0 {
			t.Fatalf("berth logs -f exited %d: %s", code, follow.stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("berth logs -f still runs 10s after its session ended")
	}

	// The API: NDJSON records with times and streams, tail and since applied.
	resp := signedRequest(t, "GET", ts.URL+"/berth/v1/sessions/"+id+"/logs?tail=3", "", ts.Creds, time.Now())
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("logs: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Body)
	}
	lines := strings.Split(strings.TrimSpace(string(resp.Body)), "\n")
	if len(lines) != 3 {
		t.Fatalf("tail=3 answered %d lines:\n%s", len(lines), resp.Body)
	}
	var sawStderr bool
	all := signedRequest(t, "GET", ts.URL+"/berth/v1/sessions/"+id+"/logs", "", ts.Creds, time.Now())
	for _, l := range strings.Split(strings.TrimSpace(string(all.Body)), "\n") {
		var rec struct {
			T      time.Time `json:"t"`
			Stream string    `json:"stream"`
			Line   string    `json:"line"`
		}
		if err := json.Unmarshal([]byte(l), &rec); err != nil || rec.T.IsZero() || rec.Stream == "" {
			t.Fatalf("line %q is not a timestamped record (%v)", l, err)
		}
		sawStderr = sawStderr || (rec.Stream == "stderr" && rec.Line == "something went wrong")
	}
	if !sawStderr {
		t.Errorf("the log lacks the stderr line:\n%s", all.Body)
	}
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	if r := signedRequest(t, "GET", ts.URL+"/berth/v1/sessions/"+id+"/logs?since="+future, "", ts.Creds, time.Now()); r.StatusCode != 200 || len(r.Body) != 0 {
		t.Errorf("since the future: %d %q, want 200 and nothing", r.StatusCode, r.Body)
	}

	// berth logs -o json prints the records, one JSON object per line.
	out := ts.runCLI(t, context.Background(), "logs", "--session", session, "--tail", "1", "-o", "json")
	last, _ := out.waitLine(t, `"stream"`)
	var rec map[string]any
	if err := json.Unmarshal([]byte(last), &rec); err != nil || rec["line"] == nil || rec["t"] == nil {
		t.Errorf("-o json printed %q (%v)", last, err)
	}
	if code := <-out.code; code != 0 {
		t.Errorf("berth logs -o json exited %d: %s", code, out.stderr.String())
	}
}

// TestLogs_Errors: an unknown session is ResourceNotFoundException, a bad query a
// ValidationException naming every bad member.
func TestLogs_Errors(t *testing.T) {
	ts := startServer(t)
	resp := signedRequest(t, "GET", ts.URL+"/berth/v1/sessions/0190b0b0-0000-7000-8000-000000000000/logs", "", ts.Creds, time.Now())
	if typ, _ := errorType(t, resp); resp.StatusCode != 404 || typ != "ResourceNotFoundException" {
		t.Errorf("unknown session: %d %s %s", resp.StatusCode, typ, resp.Body)
	}
	resp = signedRequest(t, "GET", ts.URL+"/berth/v1/sessions/any/logs?tail=-2&since=yesterday&follow=maybe", "", ts.Creds, time.Now())
	typ, body := errorType(t, resp)
	if resp.StatusCode != 400 || typ != "ValidationException" {
		t.Fatalf("bad query: %d %s %s", resp.StatusCode, typ, resp.Body)
	}
	fields, _ := body["fieldList"].([]any)
	var names []string
	for _, f := range fields {
		names = append(names, fmt.Sprint(f.(map[string]any)["name"]))
	}
	if strings.Join(names, ",") != "tail,since,follow" {
		t.Errorf("fieldList names %v, want tail, since, follow", names)
	}
	// The CLI says so in one line with a hint.
	out := ts.runCLI(t, context.Background(), "logs", "--session", "no-such-session-0123456789-0123456789")
	if code := <-out.code; code != 1 || !strings.Contains(out.stderr.String(), "Hint:") {
		t.Errorf("berth logs of an unknown session exited %d: %s", code, out.stderr.String())
	}
}
