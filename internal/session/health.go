package session

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/sandbox"
)

// waitHealthy polls GET /ping until the agent answers 200, the sandbox exits, InitTimeout
// passes or ctx ends. It returns the agent's status.
func (m *Manager) waitHealthy(ctx context.Context, s *session) (string, error) {
	return m.pollHealthy(ctx, s.sb, s.client, func() error { return m.exitedErr(s) })
}

// pollHealthy is waitHealthy for any sandbox (a session's or a pooled one): it asks client
// for GET /ping until a 200, InitTimeout or ctx, and returns exited() if sb exits first.
func (m *Manager) pollHealthy(ctx context.Context, sb sandbox.Sandbox, client *http.Client, exited func() error) (string, error) {
	ictx, cancel := context.WithTimeout(ctx, m.opts.InitTimeout)
	defer cancel()
	// Agents come up in a few milliseconds (Go) to seconds (heavy Python): poll fast at
	// first and back off, so a quick agent is found quickly without a busy loop for slow ones.
	wait := startPollMin
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		pctx, pcancel := context.WithTimeout(ictx, m.opts.PingTimeout)
		status, err := ping(pctx, client)
		pcancel()
		if err == nil {
			return status, nil
		}
		select {
		case <-sb.Done():
			return "", exited()
		default:
		}
		select {
		case <-sb.Done():
			return "", exited()
		case <-ictx.Done():
			if ctx.Err() != nil {
				return "", fmt.Errorf("wait for agent: %w", ctx.Err())
			}
			return "", initTimeoutErr(m.opts.InitTimeout)
		case <-timer.C:
			wait = min(2*wait, startPollMax)
			timer.Reset(wait)
		}
	}
}

// initTimeoutErr is AgentCore's message for an agent that never became healthy.
func initTimeoutErr(d time.Duration) error {
	secs := strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
	msg := "Runtime initialization time exceeded. Please make sure that initialization completes in " + secs + "s."
	return fmt.Errorf("%w: %s", errdefs.ErrRuntimeClient, msg)
}

// exitedErr describes an agent that exited before it became healthy, with the end of its
// output.
func (m *Manager) exitedErr(s *session) error {
	exit := s.sb.ExitErr()
	if exit == nil {
		exit = errors.New("exit status 0")
	}
	if s.logPath == "" {
		return fmt.Errorf("%w: agent exited during start-up: %w", errdefs.ErrRuntimeClient, exit)
	}
	tail := m.logTail(s)
	if tail != "" {
		tail = "\nlast output:\n" + tail
	}
	return fmt.Errorf("%w: agent exited during start-up: %w; see %s%s", errdefs.ErrRuntimeClient, exit, s.logPath, tail)
}
