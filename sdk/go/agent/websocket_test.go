package agent_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"berth.dev/berth/sdk/go/agent"
)

// closeBody closes what coder/websocket leaves of a handshake response body (nothing
// after a successful upgrade, the first KiB after a refusal).
func closeBody(resp *http.Response) {
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
}

func wsURL(srv *httptest.Server) string { return "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws" }

func dial(t *testing.T, srv *httptest.Server, h http.Header) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, wsURL(srv), &websocket.DialOptions{HTTPHeader: h})
	closeBody(resp)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d", resp.StatusCode)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

func TestWebSocketEcho(t *testing.T) {
	clientClosed := make(chan websocket.StatusCode, 1)
	_, srv := serve(t, nil, agent.WithWebSocket(func(ctx context.Context, conn *websocket.Conn) error {
		switch agent.Headers(ctx).Get("X-Mode") {
		case "hello":
			return wsjson.Write(ctx, conn, map[string]string{"session": agent.SessionID(ctx), "request": agent.RequestID(ctx)})
		case "fail":
			return errors.New("handler bug")
		}
		for {
			typ, data, err := conn.Read(ctx)
			if err != nil {
				clientClosed <- websocket.CloseStatus(err)
				return err
			}
			if typ == websocket.MessageText {
				data = append([]byte("echo:"), data...)
			} else {
				slices.Reverse(data)
			}
			if err := conn.Write(ctx, typ, data); err != nil {
				return err
			}
		}
	}))
	ctx := t.Context()

	t.Run("echo", func(t *testing.T) {
		c := dial(t, srv, nil)
		big := make([]byte, 1<<20) // over coder/websocket's 32 KiB default read limit
		for i := range big {
			big[i] = byte(i)
		}
		for _, msg := range []struct {
			typ  websocket.MessageType
			data []byte
		}{{websocket.MessageText, []byte("héllo")}, {websocket.MessageBinary, []byte{0, 1, 2}}, {websocket.MessageBinary, big}} {
			c.SetReadLimit(2 << 20)
			if err := c.Write(ctx, msg.typ, msg.data); err != nil {
				t.Fatal(err)
			}
			typ, got, err := c.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var want []byte
			if typ == websocket.MessageText {
				want = append([]byte("echo:"), msg.data...)
			} else {
				want = slices.Clone(msg.data)
				slices.Reverse(want)
			}
			if typ != msg.typ || !bytes.Equal(got, want) {
				t.Fatalf("echo of %d bytes: got type %v, %d bytes", len(msg.data), typ, len(got))
			}
		}
		if err := c.Ping(pingCtx(t, c)); err != nil {
			t.Fatalf("ping: %v", err)
		}
		if err := c.Close(websocket.StatusGoingAway, "bye"); err != nil {
			t.Fatalf("close: %v", err)
		}
		if code := <-clientClosed; code != websocket.StatusGoingAway {
			t.Fatalf("handler saw close %v", code)
		}
	})

	t.Run("context", func(t *testing.T) {
		c := dial(t, srv, http.Header{"X-Mode": {"hello"}, agent.HeaderSessionID: {session}, agent.HeaderRequestID: {"r-1"}})
		var got map[string]string
		if err := wsjson.Read(ctx, c, &got); err != nil {
			t.Fatal(err)
		}
		if got["session"] != session || got["request"] != "r-1" {
			t.Fatalf("got %v", got)
		}
		_, _, err := c.Read(ctx)
		if code := websocket.CloseStatus(err); code != websocket.StatusNormalClosure {
			t.Fatalf("after the handler returned: %v (%v)", code, err)
		}
	})

	t.Run("handler error", func(t *testing.T) {
		c := dial(t, srv, http.Header{"X-Mode": {"fail"}})
		_, _, err := c.Read(ctx)
		if code := websocket.CloseStatus(err); code != websocket.StatusInternalError {
			t.Fatalf("close status %v (%v), want 1011", code, err)
		}
	})

	t.Run("plain GET", func(t *testing.T) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusUpgradeRequired {
			t.Fatalf("status %d, want 426", resp.StatusCode)
		}
	})
}

// pingCtx bounds a client Ping; coder/websocket needs a concurrent reader to see the pong.
func pingCtx(t *testing.T, c *websocket.Conn) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	go func() { _, _, _ = c.Read(ctx) }()
	return ctx
}

func TestWebSocketWithoutHandler(t *testing.T) {
	_, srv := serve(t, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, wsURL(srv), nil)
	closeBody(resp)
	if err == nil {
		t.Fatal("dial succeeded without a WebSocket handler")
	}
	if resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("got %v, %v; want 403", resp, err)
	}
}
