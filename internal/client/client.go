// Package client is a small Go client for Berth's own extension API (/berth/v1/…), the
// part of a Berth server the AWS SDKs do not cover: the session records behind
// GET /berth/v1/sessions. Requests are signed with SigV4 for the bedrock-agentcore service,
// exactly as the SDK signs the AgentCore operations. It is not a general AgentCore client;
// use the AWS SDK for Go's bedrockagentcore and bedrockagentcorecontrol clients for those.
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go"
)

// emptySHA256 is the SHA-256 of an empty body, which every request here has.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// Client calls a Berth server's extension API.
type Client struct {
	endpoint string // base URL without a trailing slash
	region   string
	creds    aws.CredentialsProvider
	http     *http.Client
	signer   *v4.Signer
}

// New returns a client for the server at endpoint (for example http://127.0.0.1:8787).
// A nil httpClient means http.DefaultClient.
func New(endpoint, region string, creds aws.CredentialsProvider, httpClient *http.Client) *Client {
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	return &Client{endpoint: strings.TrimRight(endpoint, "/"), region: region, creds: creds, http: httpClient, signer: v4.NewSigner()}
}

// Error is a non-2xx answer from the server, decoded from its AWS-style JSON error body.
type Error struct {
	StatusCode int
	Code       string // the error type, e.g. ResourceNotFoundException
	Message    string
}

func (e *Error) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("HTTP %d: %s", e.StatusCode, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// NotFound reports whether err is a 404 from the server.
func NotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.StatusCode == http.StatusNotFound
}

// send performs a signed GET of path?query and returns the answer for the caller to read
// and close; a non-2xx answer is returned as an *Error.
func (c *Client) send(ctx context.Context, path string, query url.Values) (*http.Response, error) {
	u := c.endpoint + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	creds, err := c.creds.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	req.Header.Set("X-Amz-Content-Sha256", emptySHA256)
	if err := c.signer.SignHTTP(ctx, creds, req, emptySHA256, "bedrock-agentcore", c.region, time.Now()); err != nil {
		return nil, fmt.Errorf("sign request: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	if resp.StatusCode/100 != 2 {
		defer func() { _ = resp.Body.Close() }()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if err != nil {
			return nil, fmt.Errorf("GET %s: read answer: %w", path, err)
		}
		return nil, decodeError(resp, body)
	}
	return resp, nil
}

// get performs a signed GET of path?query and decodes the JSON answer into out.
func (c *Client) get(ctx context.Context, path string, query url.Values, out any) error {
	resp, err := c.send(ctx, path, query)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("GET %s: read answer: %w", path, err)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("GET %s: decode answer: %w", path, err)
	}
	return nil
}

// ResponseError is the *Error of a non-2xx answer with the given body, for callers that
// make their own requests to a Berth server (the CLI's bearer-token invocations).
func ResponseError(resp *http.Response, body []byte) error { return decodeError(resp, body) }

// decodeError turns an AWS JSON error body ({"message": …} with the type in
// X-Amzn-ErrorType or "__type") into an *Error.
func decodeError(resp *http.Response, body []byte) error {
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
		Upper   string `json:"Message"`
	}
	_ = json.Unmarshal(body, &e) // a body that is not JSON still yields the status
	code := resp.Header.Get("X-Amzn-ErrorType")
	if code == "" {
		code = e.Type
	}
	code, _, _ = strings.Cut(code, ":")
	if i := strings.LastIndex(code, "#"); i >= 0 {
		code = code[i+1:]
	}
	msg := e.Message
	if msg == "" {
		msg = e.Upper
	}
	if msg == "" {
		msg = strings.TrimSpace(string(body))
	}
	return &Error{StatusCode: resp.StatusCode, Code: code, Message: msg}
}

// ErrorCode is the error type. With ErrorMessage and ErrorFault it makes *Error a
// smithy.APIError, so callers handle it like the AWS SDK's errors.
func (e *Error) ErrorCode() string { return e.Code }

// ErrorMessage is the server's message.
func (e *Error) ErrorMessage() string { return e.Message }

// ErrorFault says whose fault the error is, judged by the status code.
func (e *Error) ErrorFault() smithy.ErrorFault {
	if e.StatusCode >= 500 {
		return smithy.FaultServer
	}
	return smithy.FaultClient
}
