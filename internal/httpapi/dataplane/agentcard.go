package dataplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/httpapi"
	"berth.dev/berth/internal/session"
)

// serverProtocolA2A is the serverProtocol of runtimes that have an agent card.
const serverProtocolA2A = "A2A"

// agentCardPath is where an A2A agent serves its card (AGENTCORE-WIRE.md §4.6).
const agentCardPath = "/.well-known/agent-card.json"

// maxAgentCard bounds the card read from the agent; cards are small JSON documents.
const maxAgentCard = 1 << 20

// getAgentCard is GetAgentCard (AGENTCORE-WIRE.md §2.5): it starts or reuses the session
// like InvokeAgentRuntime, fetches GET /.well-known/agent-card.json from the agent and
// answers with the card document itself. Only A2A runtimes have a card.
func (a *API) getAgentCard(w http.ResponseWriter, r *http.Request) error {
	addr, err := a.parseAddress(r)
	if err != nil {
		return err
	}
	sid, err := sessionID(r, true)
	if err != nil {
		return err
	}
	ctx := r.Context()
	rt, ep, v, err := a.tracedLiveVersion(ctx, addr)
	if err != nil {
		return err
	}
	if err := requireA2A(rt.ID, v.Config); err != nil {
		return err
	}
	if err := validateHeaders(r, nil); err != nil {
		return err
	}
	lease, err := a.acquire(ctx, addr, sid, rt, ep, v)
	if err != nil {
		return err
	}
	defer lease.Release()
	cfg, err := a.pinnedConfig(ctx, addr.RuntimeID, lease, v)
	if err != nil {
		return err
	}
	if err := requireA2A(rt.ID, cfg); err != nil {
		return err
	}
	_, port, _ := catalog.EffectiveProtocol(cfg)
	traceparent := traceparentOf(ctx, r.Header)
	header := agentHeaders(r, sid, httpapi.RequestIDFrom(ctx), traceparent, cfg)
	header.Del("Content-Type") // a GET without a body
	header.Set("Accept", "application/json")
	card, err := fetchAgentCard(ctx, lease, port, header)
	if err != nil {
		return err
	}
	echoHeaders(w, r, sid, traceparent)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(card)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(card)
	return nil
}

// requireA2A rejects a runtime whose server protocol is not A2A.
func requireA2A(runtimeID string, cfg catalog.RuntimeConfig) error {
	if protocol, _, _ := catalog.EffectiveProtocol(cfg); protocol != serverProtocolA2A {
		return fmt.Errorf("%w: GetAgentCard is for A2A runtimes; agent runtime %s serves %s", errdefs.ErrInvalidArgument, runtimeID, protocol)
	}
	return nil
}

// fetchAgentCard GETs the card from the agent and checks it is a JSON document. Any failure
// is a RuntimeClientError naming what went wrong.
func fetchAgentCard(ctx context.Context, lease *session.Lease, port int, header http.Header) ([]byte, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-lease.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	// The host is a placeholder: the lease's transport dials only this session's sandbox.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://agent:"+strconv.Itoa(port)+agentCardPath, nil) //nolint:gosec // G704: see above
	if err != nil {
		return nil, fmt.Errorf("build agent card request: %w", err)
	}
	req.Host = "127.0.0.1:" + strconv.Itoa(port)
	req.Header = header
	resp, err := lease.Transport().RoundTrip(req)
	if err != nil {
		select {
		case <-lease.Done():
			return nil, fmt.Errorf("%w: the agent's session ended while fetching its agent card", errdefs.ErrRuntimeClient)
		default:
		}
		if errors.Is(err, context.Canceled) {
			return nil, fmt.Errorf("fetch agent card: %w", err)
		}
		return nil, fmt.Errorf("%w: fetching the agent card from the agent failed (is it listening on 0.0.0.0:%d?): %w", errdefs.ErrRuntimeClient, port, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAgentCard+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading the agent card from the agent failed: %w", errdefs.ErrRuntimeClient, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: the agent answered HTTP %d to GET %s: %s", errdefs.ErrRuntimeClient, resp.StatusCode, agentCardPath, cardSnippet(body))
	}
	if len(body) > maxAgentCard {
		return nil, fmt.Errorf("%w: the agent card is larger than %d bytes", errdefs.ErrRuntimeClient, maxAgentCard)
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("%w: the agent card is not a JSON object: %w", errdefs.ErrRuntimeClient, err)
	}
	return body, nil
}

// cardSnippet is the start of an agent's answer, for error messages.
func cardSnippet(b []byte) string {
	if len(b) > 512 {
		return string(b[:512]) + "…"
	}
	return string(b)
}
