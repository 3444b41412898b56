package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// signingTransport SigV4-signs every request (service bedrock-agentcore), so protocol SDK
// clients (MCP, A2A, plain HTTP) can talk to Berth the way a signing proxy would let them
// talk to AgentCore. Bodies are read to hash them; test payloads are small.
type signingTransport struct {
	creds aws.Credentials
	base  http.RoundTripper
}

func (s signingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		_ = req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), s.creds, req, hex.EncodeToString(sum[:]), "bedrock-agentcore", "us-east-1", time.Now()); err != nil {
		return nil, err
	}
	base := s.base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(req)
}

// signingClient returns an HTTP client that signs with the server's admin credentials.
func (ts *testServer) signingClient() *http.Client {
	return &http.Client{Transport: signingTransport{creds: ts.Creds}}
}
