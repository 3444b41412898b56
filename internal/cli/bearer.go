package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"berth.dev/berth/internal/client"
)

// sessionHeader carries the runtime session id (AGENTCORE-WIRE.md §2.2).
const sessionHeader = "X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"

// bearerTimeout bounds a bearer-token invocation, as the starter toolkit's 900 s.
const bearerTimeout = 900 * time.Second

// invokeBearer invokes arn the way AgentCore's starter toolkit does for runtimes with a JWT
// authorizer: POST {endpoint}/runtimes/{url-escaped ARN}/invocations?qualifier=… with
// Content-Type, Accept, the session header, the custom headers and "Authorization: Bearer
// TOKEN" — no SigV4. The answer is printed as invoke prints it.
func invokeBearer(ctx context.Context, endpoint string, f invokeFlags, arn string, payload []byte, stdout, stderr io.Writer) error {
	headers, err := parseHeaders(f.headers)
	if err != nil {
		return err
	}
	state, err := loadState()
	if err != nil {
		return err
	}
	sid := sessionFor(state, arn, f.session, f.newSession)
	qualifier := f.qualifier
	if qualifier == "" {
		qualifier = "DEFAULT"
	}
	u := endpoint + "/runtimes/" + url.PathEscape(arn) + "/invocations?qualifier=" + url.QueryEscape(qualifier)
	ctx, cancel := context.WithTimeout(ctx, bearerTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("invoke: %w", err)
	}
	req.Header.Set("Content-Type", f.contentType)
	req.Header.Set("Accept", acceptAnswer)
	req.Header.Set(sessionHeader, sid)
	for _, h := range headers {
		req.Header.Add(h[0], h[1])
	}
	req.Header.Set("Authorization", "Bearer "+f.bearer)
	prog := newProgress(stdout)
	prog.step("Invoking (a new session starts its sandbox first)")
	resp, err := http.DefaultClient.Do(req)
	prog.clear()
	if err != nil {
		return fmt.Errorf("invoke: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode/100 != 2 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		err := client.ResponseError(resp, body)
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			hint := "the runtime's customJWTAuthorizer did not accept this token: check its issuer, audience, client and expiry"
			if strings.Contains(err.Error(), "mismatch") {
				hint = "this runtime takes SigV4-signed calls only: drop --bearer"
			}
			return hintError{fmt.Errorf("invoke with a bearer token: %w", err), hint}
		}
		return fmt.Errorf("invoke: %w", err)
	}
	if got := resp.Header.Get(sessionHeader); got != "" {
		sid = got
	}
	if err := rememberSession(state, stderr, arn, sid); err != nil {
		return err
	}
	return printAnswer(stdout, f.json, sid, resp.Header.Get("Content-Type"), resp.Body)
}
