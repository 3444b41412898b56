package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	"github.com/coder/websocket"

	"berth.dev/berth/test/testagent"
)

const (
	wsSessionHeader = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"
	emptySHA256     = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// wsURL is the http:// form of a runtime's WebSocket URL (what SigV4 signs); query is
// appended as given.
func (ts *testServer) wsURL(arn, query string) string {
	u := ts.URL + "/runtimes/" + url.PathEscape(arn) + "/ws"
	if query != "" {
		u += "?" + query
	}
	return u
}

// toWS turns an http:// URL into the ws:// one a WebSocket client dials.
func toWS(u string) string { return "ws://" + strings.TrimPrefix(u, "http://") }

// signedWSHeader signs a GET of httpURL with SigV4 headers (empty payload) and returns the
// headers to send on the upgrade. The session id is added after signing, unsigned, as the
// Python SDK's WebSocket helper does.
func signedWSHeader(t *testing.T, httpURL string, creds aws.Credentials, session string) http.Header {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, httpURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, emptySHA256, "bedrock-agentcore", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	if session != "" {
		req.Header.Set(wsSessionHeader, session)
	}
	return req.Header
}

// presignWS presigns a GET of httpURL (whose query may carry X-Amz-Expires and header-named
// parameters) and returns the ws:// URL to dial.
func presignWS(t *testing.T, httpURL string, creds aws.Credentials) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, httpURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	signed, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req, emptySHA256, "bedrock-agentcore", "us-east-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return toWS(signed)
}

// dialWS opens a WebSocket; on a refused handshake it returns the HTTP status and the
// start of the body.
func dialWS(t *testing.T, wsURL string, h http.Header) (*websocket.Conn, int, string, http.Header, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), sessionStartWait()) // the handshake may start the session
	defer cancel()
	c, resp, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPHeader: h})
	status, body := 0, ""
	var header http.Header
	if resp != nil {
		status, header = resp.StatusCode, resp.Header
		if resp.Body != nil {
			raw, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			body = string(raw)
		}
	}
	if err == nil {
		t.Cleanup(func() { _ = c.CloseNow() })
	}
	return c, status, body, header, err
}

// mustDialWS opens a WebSocket or fails the test.
func mustDialWS(t *testing.T, wsURL string, h http.Header) (*websocket.Conn, http.Header) {
	t.Helper()
	c, status, body, header, err := dialWS(t, wsURL, h)
	if err != nil {
		t.Fatalf("dial %s: %v (HTTP %d %s)", wsURL, err, status, body)
	}
	return c, header
}

// roundTrip sends one message and expects the same type and bytes back.
func roundTrip(t *testing.T, c *websocket.Conn, typ websocket.MessageType, msg []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Write(ctx, typ, msg); err != nil {
		t.Fatalf("write %v: %v", typ, err)
	}
	gotTyp, got, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read echo of %v: %v", typ, err)
	}
	if gotTyp != typ || !bytes.Equal(got, msg) {
		t.Fatalf("echo = %v %q, want %v %q", gotTyp, got, typ, msg)
	}
}

// sessionState is the state of the one live record of a session id ("" if none).
func (ts *testServer) sessionState(t *testing.T, session string) string {
	t.Helper()
	recs := ts.sessions(t, "live=true&runtimeSessionId="+url.QueryEscape(session))
	switch len(recs) {
	case 0:
		return ""
	case 1:
		return recs[0].State
	}
	t.Fatalf("%d live records for session %s", len(recs), session)
	return ""
}

// TestWebSocket_SigV4Headers: a WebSocket signed with SigV4 headers reaches the test agent's
// echo: text and binary messages round-trip, the 101 answer names the session, and a close
// code the agent sends reaches the client unchanged.
func TestWebSocket_SigV4Headers(t *testing.T) {
	ts := startServer(t)
	rt := ts.deployImage(t, "ws_agent", testagent.Image(t), nil)
	session := sid("ws-headers")
	u := ts.wsURL(rt.ARN, "")
	c, h := mustDialWS(t, toWS(u), signedWSHeader(t, u, ts.Creds, session))
	if got := h.Get(wsSessionHeader); got != session {
		t.Errorf("101 answer session header = %q, want %q", got, session)
	}
	roundTrip(t, c, websocket.MessageText, []byte("hello through berth"))
	bin := make([]byte, 20000)
	for i := range bin {
		bin[i] = byte(i * 7)
	}
	roundTrip(t, c, websocket.MessageBinary, bin)
	roundTrip(t, c, websocket.MessageText, []byte("again"))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, []byte("close:4001")); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.Read(ctx)
	if code := websocket.CloseStatus(err); code != 4001 {
		t.Errorf("after close:4001 the read failed with %v (close status %d), want close status 4001", err, code)
	}

	// Without a session id header, one is made and echoed.
	c2, h2 := mustDialWS(t, toWS(u), signedWSHeader(t, u, ts.Creds, ""))
	if got := h2.Get(wsSessionHeader); len(got) < 33 || got == session {
		t.Errorf("generated session id = %q", got)
	}
	roundTrip(t, c2, websocket.MessageText, []byte("fresh session"))
	_ = c2.Close(websocket.StatusNormalClosure, "")
}

// TestWebSocket_Presigned: a presigned URL (X-Amz-Expires 300) carrying the session id as a
// query parameter opens a socket on that session — the sandbox /invocations reaches — and
// the socket keeps that session active. Longer expiry and a tampered signature are refused
// before the upgrade.
func TestWebSocket_Presigned(t *testing.T) {
	ts := startServer(t)
	rt := ts.deployImage(t, "ws_presigned", testagent.Image(t), nil)
	data := ts.Data()
	session := sid("ws-presigned")
	if n := count(t, data, rt.ARN, session); n != 1 {
		t.Fatalf("first incr = %d", n)
	}
	q := url.Values{wsSessionHeader: {session}, "X-Amz-Expires": {"300"}}
	signed := presignWS(t, ts.wsURL(rt.ARN, q.Encode()), ts.Creds)
	c, h := mustDialWS(t, signed, nil)
	if got := h.Get(wsSessionHeader); got != session {
		t.Errorf("101 answer session header = %q, want %q (the query parameter)", got, session)
	}
	roundTrip(t, c, websocket.MessageText, []byte("presigned"))
	if st := ts.sessionState(t, session); st != "active" {
		t.Errorf("session %s is %q while its socket is open, want active", session, st)
	}
	if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Errorf("close: %v", err)
	}
	// The same sandbox: its in-memory counter continued.
	if n := count(t, data, rt.ARN, session); n != 2 {
		t.Errorf("incr after the socket = %d, want 2 (the socket went to another sandbox?)", n)
	}
	if recs := ts.sessions(t, "runtimeSessionId="+url.QueryEscape(session)); len(recs) != 1 {
		t.Errorf("session %s has %d records, want 1", session, len(recs))
	}

	t.Run("expiry over 300 s", func(t *testing.T) {
		q := url.Values{wsSessionHeader: {session}, "X-Amz-Expires": {"900"}}
		_, status, body, _, err := dialWS(t, presignWS(t, ts.wsURL(rt.ARN, q.Encode()), ts.Creds), nil)
		if err == nil || status != http.StatusBadRequest || !strings.Contains(body, "X-Amz-Expires") {
			t.Errorf("dial with X-Amz-Expires=900: err %v, HTTP %d %s; want a 400 naming X-Amz-Expires", err, status, body)
		}
	})
	t.Run("tampered signature", func(t *testing.T) {
		// Add a parameter after signing: the signature no longer covers the query.
		tampered := presignWS(t, ts.wsURL(rt.ARN, q.Encode()), ts.Creds) + "&qualifier=DEFAULT"
		_, status, body, _, err := dialWS(t, tampered, nil)
		if err == nil || status != http.StatusForbidden || !strings.Contains(body, "InvalidSignatureException") {
			t.Errorf("dial with a tampered URL: err %v, HTTP %d %s; want 403 InvalidSignatureException", err, status, body)
		}
	})
}

// TestWebSocket_Refusals: a wrong signature is a 403 before the upgrade, and no session
// starts; a plain GET without the upgrade and /ws on an MCP runtime are ValidationException.
func TestWebSocket_Refusals(t *testing.T) {
	ts := startServer(t)
	rt := ts.deployImage(t, "ws_refusals", testagent.Image(t), nil)
	u := ts.wsURL(rt.ARN, "")

	session := sid("ws-wrong-key")
	wrong := ts.Creds
	wrong.SecretAccessKey = "not-the-secret-" + wrong.SecretAccessKey
	_, status, body, _, err := dialWS(t, toWS(u), signedWSHeader(t, u, wrong, session))
	if err == nil || status != http.StatusForbidden || !strings.Contains(body, "InvalidSignatureException") {
		t.Errorf("dial with a wrong secret: err %v, HTTP %d %s; want 403 InvalidSignatureException", err, status, body)
	}
	if recs := ts.sessions(t, "runtimeSessionId="+url.QueryEscape(session)); len(recs) != 0 {
		t.Errorf("a refused upgrade started %d sessions", len(recs))
	}

	resp := signedRequest(t, "GET", u, "", ts.Creds, time.Now())
	if typ, _ := errorType(t, resp); resp.StatusCode != http.StatusBadRequest || typ != "ValidationException" {
		t.Errorf("GET /ws without an upgrade: HTTP %d %s %s", resp.StatusCode, typ, resp.Body)
	}

	mcp := ts.deployImage(t, "ws_mcp", testagent.Image(t), func(in *cp.CreateAgentRuntimeInput) {
		in.ProtocolConfiguration = &types.ProtocolConfiguration{ServerProtocol: types.ServerProtocolMcp}
	})
	mu := ts.wsURL(mcp.ARN, "")
	_, status, body, _, err = dialWS(t, toWS(mu), signedWSHeader(t, mu, ts.Creds, sid("ws-mcp")))
	if err == nil || status != http.StatusBadRequest || !strings.Contains(body, "ValidationException") || !strings.Contains(body, "HTTP and AGUI") {
		t.Errorf("/ws on an MCP runtime: err %v, HTTP %d %s; want a ValidationException", err, status, body)
	}
}

// TestWebSocket_SessionLifetime: an open socket keeps its session active past several
// health-check ticks; closing it lets the session go idle; stopping the session closes a
// socket that is open on it.
func TestWebSocket_SessionLifetime(t *testing.T) {
	ts := startServer(t)
	rt := ts.deployImage(t, "ws_lifetime", testagent.Image(t), nil)
	session := sid("ws-lifetime")
	u := ts.wsURL(rt.ARN, "")
	c, _ := mustDialWS(t, toWS(u), signedWSHeader(t, u, ts.Creds, session))
	roundTrip(t, c, websocket.MessageText, []byte("one"))
	// The harness pings every 200 ms; a released session would be idle by the next tick.
	time.Sleep(time.Second)
	if st := ts.sessionState(t, session); st != "active" {
		t.Errorf("session is %q one second into an open, quiet socket; want active", st)
	}
	roundTrip(t, c, websocket.MessageText, []byte("two"))
	if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Errorf("close: %v", err)
	}
	eventually(t, "the session to go idle once its socket closed", func() bool { return ts.sessionState(t, session) == "idle" })

	c2, _ := mustDialWS(t, toWS(u), signedWSHeader(t, u, ts.Creds, session))
	roundTrip(t, c2, websocket.MessageText, []byte("three"))
	read := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _, err := c2.Read(ctx)
		read <- err
	}()
	_, err := ts.Data().StopRuntimeSession(context.Background(), &bedrockagentcore.StopRuntimeSessionInput{
		AgentRuntimeArn: aws.String(rt.ARN), RuntimeSessionId: aws.String(session),
	})
	if err != nil {
		t.Fatalf("stop session: %v", err)
	}
	err = <-read
	if err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("read on a socket whose session was stopped: %v; want the connection closed", err)
	}
	if st := ts.sessionState(t, session); st != "" {
		t.Errorf("stopped session still live (%s)", st)
	}
}

// TestWebSocket_BackPressure: while the client does not read, the agent's echo stalls, and
// with it the client's writes — nothing between them buffers without bound. The server (in
// this process) moves 128 MiB without its heap growing by more than a fraction of that, and
// every byte arrives in order.
func TestWebSocket_BackPressure(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 256 MiB")
	}
	ts := startServer(t)
	rt := ts.deployImage(t, "ws_pressure", testagent.Image(t), nil)
	u := ts.wsURL(rt.ARN, "")
	c, _ := mustDialWS(t, toWS(u), signedWSHeader(t, u, ts.Creds, sid("ws-pressure")))
	const (
		total = 128 << 20
		chunk = 16 << 10 // the test agent reads messages of up to 32 KiB (coder/websocket's default)
	)
	want, _ := hashOf(newPayload(total))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	runtime.GC()
	base := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(base)
	stop := make(chan struct{})
	peak := heapPeak(stop)

	var sent atomic.Int64
	wrote := make(chan error, 1)
	go func() {
		src, buf := newPayload(total), make([]byte, chunk)
		for {
			n, _ := io.ReadFull(src, buf)
			if n == 0 {
				wrote <- nil
				return
			}
			if err := c.Write(ctx, websocket.MessageBinary, buf[:n]); err != nil {
				wrote <- err
				return
			}
			sent.Add(int64(n))
		}
	}()

	// Nobody reads yet: the writer must come to a stop short of the total. (Socket buffers
	// on the four hops hold some megabytes; an unbounded buffer would take everything.)
	last, still := int64(-1), 0
	for still < 5 && last < total {
		time.Sleep(100 * time.Millisecond)
		if n := sent.Load(); n == last {
			still++
		} else {
			last, still = n, 0
		}
	}
	if last >= total {
		t.Fatalf("the writer sent all %d MiB while nobody read: no back-pressure", total>>20)
	}
	t.Logf("with nobody reading, the writer stopped after %d MiB", last>>20)

	h := sha256.New()
	buf := make([]byte, 32<<10)
	var got int64
	for got < total {
		typ, r, err := c.Reader(ctx)
		if err != nil {
			t.Fatalf("read after %d bytes: %v", got, err)
		}
		if typ != websocket.MessageBinary {
			t.Fatalf("message type %v", typ)
		}
		n, err := io.CopyBuffer(h, r, buf)
		if err != nil {
			t.Fatalf("read after %d bytes: %v", got, err)
		}
		got += n
	}
	if err := <-wrote; err != nil {
		t.Fatalf("write: %v", err)
	}
	close(stop)
	if sum := hex.EncodeToString(h.Sum(nil)); got != total || sum != want {
		t.Fatalf("echoed %d bytes with hash %s, want %d bytes with %s", got, sum, total, want)
	}
	// Client and server share this process; growth over the baseline is the server's, the
	// client's frame buffers and garbage not yet collected. Buffering the stalled stream
	// would take the better part of 128 MiB.
	if grew := int64(peak()) - int64(base[0].Value.Uint64()); grew > 32<<20 {
		t.Errorf("heap grew by %d MiB while streaming %d MiB through a slow reader: the stream was buffered", grew>>20, total>>20)
	} else {
		t.Logf("heap growth while streaming %d MiB: %d MiB", total>>20, grew>>20)
	}
	_ = c.Close(websocket.StatusNormalClosure, "")
}
