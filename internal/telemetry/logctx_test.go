package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"berth.dev/berth/internal/telemetry"
)

type requestIDKey struct{}

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// lines decodes the JSON lines a handler wrote.
func lines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func TestContextHandler_AddsRequestFields(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(telemetry.ContextHandler(slog.NewJSONHandler(&buf, nil), requestID)).With("component", "test")
	var handled bool
	h := telemetry.LogFields(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		ctx := context.WithValue(r.Context(), requestIDKey{}, "req-1")
		logger.InfoContext(ctx, "before the address is known")
		telemetry.SetLogRuntime(ctx, "hello-abc", "DEFAULT")
		telemetry.SetLogSession(ctx, "s-1")
		logger.InfoContext(ctx, "after")
		logger.InfoContext(ctx, "explicit", "session", "other")
		logger.Info("no context")
		handled = true
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	if !handled {
		t.Fatal("the middleware did not call the handler")
	}
	got := lines(t, &buf)
	if len(got) != 4 {
		t.Fatalf("%d lines, want 4", len(got))
	}
	check := func(i int, want map[string]any, absent ...string) {
		t.Helper()
		for k, v := range want {
			if got[i][k] != v {
				t.Errorf("line %d (%v): %s = %v, want %v", i, got[i], k, got[i][k], v)
			}
		}
		for _, k := range absent {
			if _, ok := got[i][k]; ok {
				t.Errorf("line %d (%v) has %s", i, got[i], k)
			}
		}
	}
	check(0, map[string]any{"request_id": "req-1", "component": "test"}, "runtime", "session")
	check(1, map[string]any{"request_id": "req-1", "runtime": "hello-abc", "endpoint": "DEFAULT", "session": "s-1"})
	check(2, map[string]any{"session": "other"})
	check(3, map[string]any{"component": "test"}, "request_id", "runtime", "session")
	if strings.Count(buf.String(), `"session"`) != 2 {
		t.Errorf("a line repeats the session key:\n%s", buf.String())
	}
}

func TestContextHandler_RedactsSecrets(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(telemetry.ContextHandler(slog.NewJSONHandler(&buf, nil), nil))
	logger.With("secret_access_key", "wJalr").Info("keys", "access_key_id", "AKIA1", "Authorization", "AWS4-HMAC-SHA256 Credential=…",
		"cfg", slog.GroupValue(slog.String("password", "hunter2"), slog.String("user", "me")), "bearer_token", "eyJ")
	out := buf.String()
	for _, secret := range []string{"wJalr", "AWS4-HMAC", "hunter2", "eyJ"} {
		if strings.Contains(out, secret) {
			t.Errorf("the log shows %q:\n%s", secret, out)
		}
	}
	for _, kept := range []string{"AKIA1", `"user":"me"`, `"password":"[REDACTED]"`} {
		if !strings.Contains(out, kept) {
			t.Errorf("the log lacks %s:\n%s", kept, out)
		}
	}
}
