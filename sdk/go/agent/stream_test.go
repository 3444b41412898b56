package agent_test

import (
	"bufio"
	"context"
	"io"
	"iter"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/sdk/go/agent"
)

// openStream posts payload and returns a reader of the text/event-stream answer (its body
// is closed when the test ends).
func openStream(t *testing.T, srv *httptest.Server, payload string) *bufio.Reader {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/invocations", strings.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() })
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream; charset=utf-8" {
		t.Fatalf("got %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return bufio.NewReader(resp.Body)
}

// readEvent reads one SSE event, blank line included.
func readEvent(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	var sb strings.Builder
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("read event: %v (so far %q)", err, sb.String())
		}
		sb.WriteString(line)
		if line == "\n" {
			return sb.String()
		}
	}
}

func TestStreamEventsArriveAsProduced(t *testing.T) {
	var release <-chan struct{}
	var finished chan struct{}
	_, srv := serve(t, func(ctx context.Context, req agent.Request) (any, error) {
		switch string(req.Payload) {
		case `"seq2"`:
			return iter.Seq2[any, error](func(yield func(any, error) bool) {
				defer close(finished)
				if !yield(map[string]any{"n": 1, "text": "héllo"}, nil) {
					return
				}
				<-release
				if !yield("second", nil) {
					return
				}
				yield([]int{3}, nil)
			}), nil
		case `"seq"`:
			return iter.Seq[any](func(yield func(any) bool) {
				defer close(finished)
				if !yield(1.5) {
					return
				}
				<-release
				yield(nil)
			}), nil
		case `"typed"`:
			// Any element type through agent.Seq.
			return agent.Seq(func(yield func(string, error) bool) {
				defer close(finished)
				if !yield("first", nil) {
					return
				}
				<-release
				yield("second", nil)
			}), nil
		default:
			return agent.StreamFunc(func(ctx context.Context, s *agent.Stream) error {
				defer close(finished)
				if err := s.Send(map[string]int{"n": 1}); err != nil {
					return err
				}
				<-release
				return s.Send(map[string]int{"n": 2})
			}), nil
		}
	})
	for _, tc := range []struct{ payload, first, rest string }{
		{`"seq2"`, "data: {\"n\":1,\"text\":\"héllo\"}\n\n", "data: \"second\"\n\ndata: [3]\n\n"},
		{`"seq"`, "data: 1.5\n\n", "data: null\n\n"},
		{`"typed"`, "data: \"first\"\n\n", "data: \"second\"\n\n"},
		{`"writer"`, "data: {\"n\":1}\n\n", "data: {\"n\":2}\n\n"},
	} {
		t.Run(tc.payload, func(t *testing.T) {
			var open func()
			release, open = gate(t)
			finished = make(chan struct{})
			r := openStream(t, srv, tc.payload)
			if got := readEvent(t, r); got != tc.first {
				t.Fatalf("first event %q, want %q", got, tc.first)
			}
			// The producer is still blocked on release: the event was flushed before it finished.
			select {
			case <-finished:
				t.Fatal("producer finished before release")
			default:
			}
			open()
			rest, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if string(rest) != tc.rest {
				t.Fatalf("rest %q, want %q", rest, tc.rest)
			}
			<-finished
		})
	}
}

type toolError struct{ tool string }

func (e *toolError) Error() string { return "missing tool " + e.tool }

func TestStreamErrorIsLastEvent(t *testing.T) {
	_, srv := serve(t, func(ctx context.Context, req agent.Request) (any, error) {
		if string(req.Payload) == `"panic"` {
			return agent.StreamFunc(func(ctx context.Context, s *agent.Stream) error {
				_ = s.Send("ok")
				panic("boom")
			}), nil
		}
		return iter.Seq2[any, error](func(yield func(any, error) bool) {
			if yield("ok", nil) {
				yield(nil, &toolError{"search"})
			}
		}), nil
	})
	r := openStream(t, srv, `"error"`)
	rest, _ := io.ReadAll(r)
	want := "data: \"ok\"\n\n" +
		`data: {"error":"missing tool search","error_type":"agent_test.toolError","message":"An error occurred during streaming"}` + "\n\n"
	if string(rest) != want {
		t.Fatalf("got %q\nwant %q", rest, want)
	}
	r = openStream(t, srv, `"panic"`)
	rest, _ = io.ReadAll(r)
	if !strings.HasSuffix(string(rest), `"error":"panic: boom","error_type":"errors.errorString","message":"An error occurred during streaming"}`+"\n\n") {
		t.Fatalf("got %q", rest)
	}
}

func TestStreamStopsWhenClientLeaves(t *testing.T) {
	stopped := make(chan error, 1)
	_, srv := serve(t, func(ctx context.Context, req agent.Request) (any, error) {
		return agent.StreamFunc(func(ctx context.Context, s *agent.Stream) error {
			for i := 0; ; i++ {
				if err := s.Send(i); err != nil {
					stopped <- err
					return err
				}
			}
		}), nil
	})
	ctx, cancel := context.WithCancel(t.Context())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/invocations", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	cancel()
	_ = resp.Body.Close()
	select {
	case err := <-stopped:
		if err == nil {
			t.Fatalf("Send error = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("producer kept running after the client left")
	}
}
