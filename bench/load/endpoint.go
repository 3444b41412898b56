package load

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// SigV4 scope of Berth's data plane.
const (
	sigRegion  = "us-east-1"
	sigService = "bedrock-agentcore"
)

// sessionHeader carries the runtime session id on InvokeAgentRuntime.
const sessionHeader = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"

// endpoint is one way to reach the agent's /invocations: through Berth (signed) or
// directly. Both kinds use a client built by newClient with the same settings, so the only
// difference between them is what sits between the client and the agent.
type endpoint struct {
	name    string
	url     string
	session string           // session id header value (sent on both kinds)
	creds   *aws.Credentials // nil: send unsigned (direct)
	signer  *v4.Signer
	client  *http.Client
}

// newClient returns an HTTP/1.1 client whose transport keeps up to conns idle connections
// to one host; every endpoint of a comparison gets its own, identically configured.
func newClient(conns int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		WriteBufferSize:     64 << 10,
		ReadBufferSize:      64 << 10,
	}}
}

// berthEndpoint invokes the runtime arn through the server at baseURL, signing with creds.
func berthEndpoint(baseURL, arn, session string, creds aws.Credentials, conns int) *endpoint {
	return &endpoint{
		name: "berth", url: strings.TrimSuffix(baseURL, "/") + "/runtimes/" + escapeLabel(arn) + "/invocations",
		session: session, creds: &creds, signer: v4.NewSigner(), client: newClient(conns),
	}
}

// directEndpoint invokes an agent listening on addr (host:port) without Berth.
func directEndpoint(addr, session string, conns int) *endpoint {
	return &endpoint{name: "direct", url: "http://" + addr + "/invocations", session: session, client: newClient(conns)}
}

// escapeLabel percent-encodes an HTTP label the way AWS SDKs do: everything outside
// A-Z a-z 0-9 - . _ ~ (AGENTCORE-WIRE.md §1.3).
func escapeLabel(s string) string {
	var b strings.Builder
	for i := range len(s) {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// request builds an invocation carrying body (size bytes) and, when the endpoint is Berth,
// signs it over the body's SHA-256 that hash returns — as AWS SDKs do, since the
// InvokeAgentRuntime payload is a signed blob. It returns the time spent hashing and
// signing, the client-side cost of talking to Berth.
func (e *endpoint) request(ctx context.Context, contentType string, body io.Reader, size int64, hash func() string) (*http.Request, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, body)
	if err != nil {
		return nil, 0, fmt.Errorf("build %s request: %w", e.name, err)
	}
	req.ContentLength = size
	req.Header.Set("Content-Type", contentType)
	req.Header.Set(sessionHeader, e.session)
	if e.creds == nil {
		return req, 0, nil
	}
	t0 := time.Now()
	sum := hash()
	req.Header.Set("X-Amz-Content-Sha256", sum)
	if err := e.signer.SignHTTP(ctx, *e.creds, req, sum, sigService, sigRegion, time.Now()); err != nil {
		return nil, 0, fmt.Errorf("sign %s request: %w", e.name, err)
	}
	return req, time.Since(t0), nil
}

// small builds an invocation with an in-memory body (hashed while signing).
func (e *endpoint) small(ctx context.Context, contentType string, body []byte) (*http.Request, time.Duration, error) {
	return e.request(ctx, contentType, bytes.NewReader(body), int64(len(body)), func() string {
		sum := sha256.Sum256(body)
		return hex.EncodeToString(sum[:])
	})
}

// do sends req and checks for a 200; the caller must close the body of a returned response.
func (e *endpoint) do(req *http.Request) (*http.Response, error) {
	resp, err := e.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", e.name, err)
	}
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		_ = resp.Body.Close()
		return nil, fmt.Errorf("invoke %s: status %d: %s", e.name, resp.StatusCode, strings.TrimSpace(string(msg)))
	}
	return resp, nil
}

// close drops the endpoint's idle connections.
func (e *endpoint) close() { e.client.CloseIdleConnections() }
