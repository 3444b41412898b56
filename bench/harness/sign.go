package harness

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// SigV4 scope of Berth's API.
const (
	Region  = "us-east-1"
	Service = "bedrock-agentcore"
)

// ContentSHA256Header is the header that, when a caller sets it to the body's lower-case
// hex SHA-256, spares Sign from hashing the body (precompute it with PayloadHash for
// repeated large bodies).
const ContentSHA256Header = "X-Amz-Content-Sha256"

var signer = v4.NewSigner()

// PayloadHash is the lower-case hex SHA-256 of b, as SigV4 signs it.
func PayloadHash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Sign SigV4-signs req in place with the server's credentials. bedrock-agentcore accepts
// only a signed payload hash: Sign takes it from ContentSHA256Header when set, else hashes
// the body through req.GetBody (bytes, strings readers: no copy), else reads the body into
// memory and replaces it.
func (e *Env) Sign(req *http.Request) error { return sign(req, e.Creds) }

func sign(req *http.Request, creds aws.Credentials) error {
	hash, err := payloadHash(req)
	if err != nil {
		return fmt.Errorf("sign %s %s: %w", req.Method, req.URL.Path, err)
	}
	if err := signer.SignHTTP(context.Background(), creds, req, hash, Service, Region, time.Now()); err != nil {
		return fmt.Errorf("sign %s %s: %w", req.Method, req.URL.Path, err)
	}
	return nil
}

func payloadHash(req *http.Request) (string, error) {
	if h := req.Header.Get(ContentSHA256Header); h != "" {
		return h, nil
	}
	if req.Body == nil || req.Body == http.NoBody {
		return PayloadHash(nil), nil
	}
	h := sha256.New()
	if req.GetBody != nil {
		rc, err := req.GetBody()
		if err != nil {
			return "", err
		}
		_, err = io.Copy(h, rc)
		if cerr := rc.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return "", err
		}
		return hex.EncodeToString(h.Sum(nil)), nil
	}
	raw, err := io.ReadAll(req.Body)
	if cerr := req.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	req.Body = io.NopCloser(bytes.NewReader(raw))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil }
	req.ContentLength = int64(len(raw))
	return PayloadHash(raw), nil
}

// signingTransport signs each request before handing it to base.
type signingTransport struct {
	creds aws.Credentials
	base  http.RoundTripper
}

func (s *signingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	if err := sign(req, s.creds); err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, err
	}
	return s.base.RoundTrip(req)
}

var _ http.RoundTripper = (*signingTransport)(nil)
