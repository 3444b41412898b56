package dataplane

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/schemas"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/transport/http/protocol/restjson1"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"berth.dev/berth/internal/errdefs"
)

// decodeAll reads an InvokeAgentRuntimeCommand event stream with the decoder the AWS Go SDK
// uses, returning the chunks and the error that ended the stream (nil at a clean end).
func decodeAll(t *testing.T, body []byte) ([]types.ResponseChunk, error) {
	t.Helper()
	p := restjson1.New(schemas.AmazonBedrockAgentCore)
	r := bytes.NewReader(body)
	var out []types.ResponseChunk
	for {
		ev, err := p.DeserializeEventMessage(schemas.InvokeAgentRuntimeCommandStreamOutput, bedrockagentcore.TypeRegistry, r)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		chunk, ok := ev.(*types.ResponseChunk)
		if !ok {
			t.Fatalf("event %T, want *types.ResponseChunk", ev)
		}
		out = append(out, *chunk)
	}
}

func TestEventStream_Event_DecodedBySDK(t *testing.T) {
	rec := httptest.NewRecorder()
	es := startEventStream(rec, http.StatusOK)
	out, errOut := newOutputStream(es, "stdout"), newOutputStream(es, "stderr")
	steps := []func() error{
		func() error { return es.Event("chunk", responseChunk{ContentStart: &struct{}{}}) },
		func() error { _, err := out.Write([]byte("héllo <&>\n")); return err },
		func() error { _, err := errOut.Write([]byte("oops\n")); return err },
		func() error {
			return es.Event("chunk", responseChunk{ContentStop: &contentStop{ExitCode: 3, Status: commandCompleted}})
		},
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	if ct := rec.Header().Get("Content-Type"); ct != eventStreamContentType || rec.Code != http.StatusOK {
		t.Errorf("status %d content type %q", rec.Code, ct)
	}
	got, err := decodeAll(t, rec.Body.Bytes())
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	want := []types.ResponseChunk{
		{ContentStart: &types.ContentStartEvent{}},
		{ContentDelta: &types.ContentDeltaEvent{Stdout: aws.String("héllo <&>\n")}},
		{ContentDelta: &types.ContentDeltaEvent{Stderr: aws.String("oops\n")}},
		{ContentStop: &types.ContentStopEvent{ExitCode: aws.Int32(3), Status: types.CommandExecutionStatusCompleted}},
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(types.ResponseChunk{}, types.ContentStartEvent{},
		types.ContentDeltaEvent{}, types.ContentStopEvent{})); diff != "" {
		t.Errorf("chunks (-want +got):\n%s", diff)
	}
}

func TestEventStream_Exception_TypedBySDK(t *testing.T) {
	tests := []struct {
		name  string
		write func(*eventStream) error
		check func(t *testing.T, err error)
	}{
		{
			name:  "runtimeClientError",
			write: func(es *eventStream) error { return es.Exception("runtimeClientError", "the session ended") },
			check: func(t *testing.T, err error) {
				var rce *types.RuntimeClientError
				if !errors.As(err, &rce) || aws.ToString(rce.Message) != "the session ended" {
					t.Errorf("error %T %v, want RuntimeClientError with the message", err, err)
				}
			},
		},
		{
			name:  "internalServerException",
			write: func(es *eventStream) error { return es.Exception("internalServerException", "boom") },
			check: func(t *testing.T, err error) {
				var ise *types.InternalServerException
				if !errors.As(err, &ise) || aws.ToString(ise.Message) != "boom" {
					t.Errorf("error %T %v, want InternalServerException with the message", err, err)
				}
			},
		},
		{
			name:  "unmodelled error",
			write: func(es *eventStream) error { return es.Error("SomethingElse", "odd") },
			check: func(t *testing.T, err error) {
				var ae smithy.APIError
				if !errors.As(err, &ae) || ae.ErrorCode() != "SomethingElse" || ae.ErrorMessage() != "odd" {
					t.Errorf("error %T %v, want API error SomethingElse: odd", err, err)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			es := startEventStream(rec, http.StatusOK)
			if err := es.Event("chunk", responseChunk{ContentStart: &struct{}{}}); err != nil {
				t.Fatal(err)
			}
			if err := tc.write(es); err != nil {
				t.Fatal(err)
			}
			chunks, err := decodeAll(t, rec.Body.Bytes())
			if len(chunks) != 1 || chunks[0].ContentStart == nil {
				t.Errorf("chunks before the error: %+v", chunks)
			}
			tc.check(t, err)
		})
	}
}

// failingWriter is a response whose client went away.
type failingWriter struct{ http.ResponseWriter }

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestEventStream_Event_StopsAfterWriteError(t *testing.T) {
	es := startEventStream(failingWriter{httptest.NewRecorder()}, http.StatusOK)
	first := es.Event("chunk", responseChunk{ContentStart: &struct{}{}})
	if first == nil {
		t.Fatal("write to a broken response succeeded")
	}
	out := newOutputStream(es, "stdout")
	if _, err := out.Write([]byte("x")); !errors.Is(err, es.Err()) || es.Err() == nil {
		t.Errorf("output write error %v, want the stream's first error %v", err, es.Err())
	}
}

func TestOutputStream_Write_KeepsUTF8Whole(t *testing.T) {
	big := strings.Repeat("é", maxDeltaBytes) // 2 bytes each: needs several events
	tests := []struct {
		name   string
		writes []string
		want   []string // deltas
	}{
		{"split sequence waits for its end", []string{"h\xc3", "\xa9llo"}, []string{"h", "éllo"}},
		{"four-byte rune split three ways", []string{"a\xf0\x9f", "\x98", "\x80b"}, []string{"a", "😀b"}},
		{"incomplete at the end becomes U+FFFD", []string{"ok\xe2\x82"}, []string{"ok", "\uFFFD\uFFFD"}},
		{"invalid bytes pass as U+FFFD", []string{"a\xffb"}, []string{"a\uFFFDb"}},
		{"large write is cut between runes", []string{big}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			es := startEventStream(rec, http.StatusOK)
			out := newOutputStream(es, "stdout")
			for _, w := range tc.writes {
				if n, err := out.Write([]byte(w)); err != nil || n != len(w) {
					t.Fatalf("write %q: %d, %v", w, n, err)
				}
			}
			out.flush()
			chunks, err := decodeAll(t, rec.Body.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range chunks {
				got = append(got, aws.ToString(c.ContentDelta.Stdout))
			}
			if tc.want != nil {
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("deltas (-want +got):\n%s", diff)
				}
				return
			}
			if len(got) < 2 || strings.Join(got, "") != big {
				t.Errorf("%d deltas that do not add up to the written text", len(got))
			}
			for i, d := range got {
				if len(d) > maxDeltaBytes || !utf8.ValidString(d) {
					t.Errorf("delta %d: %d bytes, valid UTF-8 %v", i, len(d), utf8.ValidString(d))
				}
			}
		})
	}
}

func TestCommandRequest_Validate(t *testing.T) {
	tests := []struct {
		name        string
		req         commandRequest
		wantCmd     string
		wantTimeout time.Duration
		wantFields  []string
	}{
		{"defaults", commandRequest{Command: aws.String("ls")}, "ls", 300 * time.Second, nil},
		{"explicit timeout", commandRequest{Command: aws.String("ls"), Timeout: aws.Int(3600)}, "ls", time.Hour, nil},
		{"max length counts characters", commandRequest{Command: aws.String(strings.Repeat("é", maxCommandChars))}, strings.Repeat("é", maxCommandChars), 300 * time.Second, nil},
		{"missing command", commandRequest{}, "", 300 * time.Second, []string{"body.command"}},
		{"empty command", commandRequest{Command: aws.String("")}, "", 300 * time.Second, []string{"body.command"}},
		{"too long", commandRequest{Command: aws.String(strings.Repeat("x", maxCommandChars+1))}, strings.Repeat("x", maxCommandChars+1), 300 * time.Second, []string{"body.command"}},
		{"NUL", commandRequest{Command: aws.String("a\x00b")}, "a\x00b", 300 * time.Second, []string{"body.command"}},
		{"timeout 0 and no command", commandRequest{Timeout: aws.Int(0)}, "", 0, []string{"body.command", "body.timeout"}},
		{"timeout 3601", commandRequest{Command: aws.String("ls"), Timeout: aws.Int(3601)}, "ls", 3601 * time.Second, []string{"body.timeout"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var f errdefs.Fields
			cmd, timeout := tc.req.validate(&f)
			var names []string
			for _, fe := range f {
				names = append(names, fe.Name)
			}
			if diff := cmp.Diff(tc.wantFields, names); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
			if len(tc.wantFields) == 0 && (cmd != tc.wantCmd || timeout != tc.wantTimeout) {
				t.Errorf("command %.20q timeout %v, want %.20q %v", cmd, timeout, tc.wantCmd, tc.wantTimeout)
			}
		})
	}
}

func TestMergeValidation(t *testing.T) {
	notFound := errors.New("not found here")
	var f errdefs.Fields
	f.Add("body.command", "Member must not be null")
	err := mergeValidation(f, notFound, errdefs.Invalid("runtimeSessionId", "too short"), nil)
	var ve *errdefs.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v, want a ValidationError", err)
	}
	var names []string
	for _, fe := range ve.Fields {
		names = append(names, fe.Name)
	}
	if diff := cmp.Diff([]string{"body.command", "runtimeSessionId"}, names); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	if err := mergeValidation(nil, nil, notFound); !errors.Is(err, notFound) {
		t.Errorf("without violations: %v, want the other error", err)
	}
	if err := mergeValidation(nil, nil, nil); err != nil {
		t.Errorf("no errors: %v", err)
	}
}
