package agent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"berth.dev/berth/sdk/go/agent"
)

const session = "6f1c0a2e-1b2c-4d3e-9f40-0123456789ab-session"

// serve starts app on a loopback httptest server.
func serve(t *testing.T, h agent.Handler, opts ...agent.Option) (*agent.App, *httptest.Server) {
	t.Helper()
	opts = append([]agent.Option{agent.WithLogger(slog.New(slog.NewTextHandler(t.Output(), nil)))}, opts...)
	app := agent.New(h, opts...)
	srv := httptest.NewServer(app)
	t.Cleanup(srv.Close)
	return app, srv
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func post(t *testing.T, srv *httptest.Server, body string, header map[string]string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/invocations", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, b}
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %q: %v", b, err)
	}
	return v
}

func TestJSONRoundTrip(t *testing.T) {
	_, srv := serve(t, func(ctx context.Context, req agent.Request) (any, error) {
		var in struct{ Prompt string }
		if err := req.Decode(&in); err != nil {
			return nil, err
		}
		return map[string]any{"echo": in.Prompt, "html": "<b>&</b>", "unicode": "héllo ✓"}, nil
	})
	r := post(t, srv, `{"prompt":"hi"}`, nil)
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("got %d %q: %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	if want := `{"echo":"hi","html":"<b>&</b>","unicode":"héllo ✓"}`; string(r.body) != want {
		t.Fatalf("body = %s, want %s", r.body, want)
	}
}

func TestContextFromHeaders(t *testing.T) {
	type ids struct {
		SessionID, RequestID, Token, Callback   string
		CtxSession, CtxRequest, CtxToken, CtxCB string
		Anything                                string
	}
	type seen struct {
		ids
		Forwarded http.Header
	}
	_, srv := serve(t, func(ctx context.Context, req agent.Request) (any, error) {
		return seen{ids: ids{
			SessionID: req.SessionID, RequestID: req.RequestID, Token: req.WorkloadAccessToken,
			Callback: req.OAuth2CallbackURL, CtxSession: agent.SessionID(ctx), CtxRequest: agent.RequestID(ctx),
			CtxToken: agent.WorkloadAccessToken(ctx), CtxCB: agent.OAuth2CallbackURL(ctx),
			Anything: agent.Headers(ctx).Get("X-Anything")}, Forwarded: req.Forwarded,
		}, nil
	})
	r := post(t, srv, `{}`, map[string]string{
		agent.HeaderSessionID:                            session,
		agent.HeaderRequestID:                            "req-123",
		agent.HeaderWorkloadToken:                        "wat-abc",
		agent.HeaderOAuth2CallbackURL:                    "https://cb.example/return",
		"Authorization":                                  "Bearer jwt",
		"X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant": "t1",
		"X-Amzn-Trace-Id":                                "Root=1-abc",
		"X-Anything":                                     "visible",
	})
	got := decode[seen](t, r.body)
	want := ids{SessionID: session, RequestID: "req-123", Token: "wat-abc", Callback: "https://cb.example/return",
		CtxSession: session, CtxRequest: "req-123", CtxToken: "wat-abc", CtxCB: "https://cb.example/return",
		Anything: "visible"}
	if got.ids != want {
		t.Fatalf("got %+v\nwant %+v", got.ids, want)
	}
	fw := got.Forwarded
	for name, ok := range map[string]bool{
		"Authorization": true, "X-Amzn-Bedrock-Agentcore-Runtime-Custom-Tenant": true, "X-Anything": true,
		"X-Amzn-Trace-Id": false, "User-Agent": false, "Content-Type": false, agent.HeaderSessionID: false,
	} {
		if _, present := fw[http.CanonicalHeaderKey(name)]; present != ok {
			t.Errorf("forwarded[%s] present = %v, want %v (%v)", name, present, ok, fw)
		}
	}
}

func TestContextDefaults(t *testing.T) {
	_, srv := serve(t, func(ctx context.Context, req agent.Request) (any, error) {
		return []string{req.SessionID, req.RequestID, req.WorkloadAccessToken}, nil
	})
	got := decode[[]string](t, post(t, srv, `1`, map[string]string{
		agent.HeaderIdentityWAT: "upstream", agent.HeaderWorkloadToken: "platform",
	}).body)
	if got[0] != "" {
		t.Errorf("session = %q, want empty", got[0])
	}
	if _, err := uuid.Parse(got[1]); err != nil {
		t.Errorf("generated request id %q: %v", got[1], err)
	}
	if got[2] != "upstream" {
		t.Errorf("token = %q, want the propagated WAT", got[2])
	}
}

func TestErrors(t *testing.T) {
	_, srv := serve(t, func(ctx context.Context, req agent.Request) (any, error) {
		var in struct{ Kind string }
		if err := req.Decode(&in); err != nil {
			return nil, err
		}
		switch in.Kind {
		case "error":
			return nil, errors.New("model exploded")
		case "http":
			return nil, agent.Errorf(http.StatusUnprocessableEntity, "prompt too short: %w", io.ErrUnexpectedEOF)
		case "panic":
			panic("nil map")
		case "raw":
			return agent.Raw(http.StatusCreated, "text/plain", []byte("plain text")), nil
		}
		return in.Kind, nil
	})
	for _, tc := range []struct {
		body       string
		wantStatus int
		wantBody   string
	}{
		{`{"kind":"error"}`, 500, `{"error":"model exploded"}`},
		{`{"kind":"http"}`, 422, `{"error":"prompt too short: unexpected EOF"}`},
		{`{"kind":"panic"}`, 500, `{"error":"panic: nil map"}`},
		{`{"kind":"raw"}`, 201, `plain text`},
		{`{"kind":"ok"}`, 200, `"ok"`},
	} {
		r := post(t, srv, tc.body, nil)
		if r.status != tc.wantStatus || string(r.body) != tc.wantBody {
			t.Errorf("%s: got %d %s, want %d %s", tc.body, r.status, r.body, tc.wantStatus, tc.wantBody)
		}
	}
	for _, bad := range []string{`{not json`, ``, "\xff\xfe"} {
		r := post(t, srv, bad, nil)
		got := decode[map[string]string](t, r.body)
		if r.status != 400 || got["error"] != "Invalid JSON" || got["details"] == "" {
			t.Errorf("%q: got %d %s, want 400 Invalid JSON with details", bad, r.status, r.body)
		}
	}
}

func TestRawPayload(t *testing.T) {
	_, srv := serve(t, func(ctx context.Context, req agent.Request) (any, error) {
		return string(req.Payload), nil
	}, agent.WithRawPayload())
	if r := post(t, srv, "plain words", nil); r.status != 200 || string(r.body) != `"plain words"` {
		t.Fatalf("got %d %s", r.status, r.body)
	}
}

func TestNoEntrypoint(t *testing.T) {
	_, srv := serve(t, nil)
	r := post(t, srv, `{}`, nil)
	if r.status != 500 || string(r.body) != `{"error":"No entrypoint defined"}` {
		t.Fatalf("got %d %s", r.status, r.body)
	}
}

func TestBodyLimits(t *testing.T) {
	_, srv := serve(t, func(ctx context.Context, req agent.Request) (any, error) {
		return len(req.Payload), nil
	}, agent.WithMaxBodyBytes(1000))
	if r := post(t, srv, `"`+strings.Repeat("x", 1000)+`"`, nil); r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("got %d %s, want 413", r.status, r.body)
	}
	// Without a Content-Length (chunked upload) the limit holds too.
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/invocations",
		io.MultiReader(strings.NewReader(`"`), strings.NewReader(strings.Repeat("y", 2000)), strings.NewReader(`"`)))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked: got %d, want 413", resp.StatusCode)
	}
}

// TestChunkedAndLargeBody sends a body of the maximum size, with and without a
// Content-Length. It skips JSON validation (WithRawPayload), which costs about 20 ns per
// byte and is exercised by TestErrors: this test is about reading the body.
func TestChunkedAndLargeBody(t *testing.T) {
	_, srv := serve(t, func(ctx context.Context, req agent.Request) (any, error) {
		if req.Payload[0] != '"' || req.Payload[len(req.Payload)-1] != '"' {
			return nil, errors.New("body corrupted")
		}
		return len(req.Payload), nil
	}, agent.WithRawPayload())
	for _, chunked := range []bool{false, true} {
		n := agent.DefaultMaxBodyBytes
		if chunked && raceEnabled {
			n = 16 << 20
		}
		body := bytes.Repeat([]byte("x"), n)
		body[0], body[n-1] = '"', '"'
		var r io.Reader = bytes.NewReader(body)
		if chunked {
			r = io.MultiReader(r) // hides the length: the client sends chunked
		}
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/invocations", r)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != 200 || string(got) != fmt.Sprint(n) {
			t.Fatalf("chunked=%v: got %d %s", chunked, resp.StatusCode, got)
		}
		t.Logf("%d-byte body (chunked=%v) in %v", n, chunked, time.Since(start))
	}
}

func TestRoutes(t *testing.T) {
	_, srv := serve(t, func(ctx context.Context, req agent.Request) (any, error) { return nil, nil })
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/nope", 404}, {"GET", "/invocations", 405}, {"POST", "/ping", 405}, {"HEAD", "/ping", 200},
	} {
		req, err := http.NewRequestWithContext(t.Context(), tc.method, srv.URL+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s %s = %d, want %d", tc.method, tc.path, resp.StatusCode, tc.want)
		}
	}
}

// gate returns a channel a handler can block on and the function that opens it. The
// gate also opens when the test ends, so a failing test cannot leave a handler blocked
// (httptest.Server.Close waits for running handlers).
func gate(t *testing.T) (<-chan struct{}, func()) {
	t.Helper()
	ch := make(chan struct{})
	var once sync.Once
	open := func() { once.Do(func() { close(ch) }) }
	t.Cleanup(open)
	return ch, open
}
