package agent_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"berth.dev/berth/sdk/go/agent"
)

func TestAddr(t *testing.T) {
	t.Setenv("PORT", "")
	if got := agent.Addr(); got != "0.0.0.0:8080" {
		t.Fatalf("Addr() = %q", got)
	}
	t.Setenv("PORT", "9123")
	if got := agent.Addr(); got != "0.0.0.0:9123" {
		t.Fatalf("Addr() with PORT = %q", got)
	}
}

func TestServeUntilCancelled(t *testing.T) {
	app := agent.New(func(ctx context.Context, req agent.Request) (any, error) { return "ok", nil },
		agent.WithLogger(slog.New(slog.NewTextHandler(t.Output(), nil))))
	var lc net.ListenConfig
	ln, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- app.Serve(ctx, ln) }()

	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+ln.Addr().String()+"/ping", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("ping: %d %s", resp.StatusCode, body)
	}
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve returned %v after cancel", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
}
