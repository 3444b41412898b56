package session

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// Agent ping statuses (AGENTCORE-WIRE.md §4.3).
const (
	statusHealthy = "Healthy"
	statusBusy    = "HealthyBusy"
)

// pingURL is where the agent's health is asked; the transport dials the sandbox whatever
// the host says.
const pingURL = "http://agent/ping"

// maxPingBody bounds how much of a /ping answer is read.
const maxPingBody = 64 << 10

// ping asks GET /ping. Any 200 is healthy; its JSON "status" is returned ("Healthy" when
// absent or unreadable). Anything else is an error.
func ping(ctx context.Context, client *http.Client) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, pingURL, nil)
	if err != nil {
		return "", fmt.Errorf("ping agent: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("ping agent: %w", err)
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxPingBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxPingBody))
	if cerr := resp.Body.Close(); cerr != nil && rerr == nil {
		rerr = cerr
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("ping agent: status %d", resp.StatusCode)
	}
	if rerr != nil {
		return "", fmt.Errorf("ping agent: read answer: %w", rerr)
	}
	var answer struct {
		Status string `json:"status"`
	}
	if json.Unmarshal(body, &answer) != nil || answer.Status == "" {
		return statusHealthy, nil
	}
	return answer.Status, nil
}
