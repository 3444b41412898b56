package client

import (
	"context"
	"net/url"
	"strconv"
)

// Session is a session record: one sandbox that served one runtime session id. It is the
// wire shape of GET /berth/v1/sessions, declared once: the server's handler writes it too.
type Session struct {
	ID              string  `json:"id"`
	AgentRuntimeID  string  `json:"agentRuntimeId"`
	AgentRuntimeArn string  `json:"agentRuntimeArn"`
	Endpoint        string  `json:"endpointName"`
	SessionID       string  `json:"runtimeSessionId"`
	Version         string  `json:"agentRuntimeVersion"`
	State           string  `json:"state"`
	EndReason       string  `json:"endReason,omitempty"`
	Driver          string  `json:"driver"`
	CPUSeconds      float64 `json:"cpuSeconds"`
	MemoryPeakBytes int64   `json:"memoryPeakBytes"`
	StartedAt       string  `json:"startedAt"`
	LastActivityAt  string  `json:"lastActivityAt,omitempty"`
	EndedAt         string  `json:"endedAt,omitempty"`
}

// SessionFilter narrows ListSessions; zero values match everything.
type SessionFilter struct {
	RuntimeID string // agentRuntimeId
	SessionID string // runtimeSessionId
	LiveOnly  bool   // only sessions whose sandbox is still there
}

// ListSessions returns every session record matching f, newest first, following pages.
func (c *Client) ListSessions(ctx context.Context, f SessionFilter) ([]Session, error) {
	q := url.Values{}
	if f.RuntimeID != "" {
		q.Set("agentRuntimeId", f.RuntimeID)
	}
	if f.SessionID != "" {
		q.Set("runtimeSessionId", f.SessionID)
	}
	if f.LiveOnly {
		q.Set("live", strconv.FormatBool(true))
	}
	all := []Session{}
	for {
		var page struct {
			Sessions  []Session `json:"sessions"`
			NextToken string    `json:"nextToken"`
		}
		if err := c.get(ctx, "/berth/v1/sessions", q, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Sessions...)
		if page.NextToken == "" {
			return all, nil
		}
		q.Set("nextToken", page.NextToken)
	}
}

// GetSession returns the session record with the given record id.
func (c *Client) GetSession(ctx context.Context, id string) (Session, error) {
	var s Session
	err := c.get(ctx, "/berth/v1/sessions/"+url.PathEscape(id), nil, &s)
	return s, err
}
