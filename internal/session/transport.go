package session

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"berth.dev/berth/internal/sandbox"
)

// errSessionEnded is what dialing a session that has ended returns.
var errSessionEnded = errors.New("the session has ended")

// newTransport builds the session's own transport: every connection, whatever the URL's
// host, is dialed through the sandbox to the agent's port. Once the session ends it dials
// nothing more, and the end closes its idle connections.
func newTransport(s *session) *http.Transport { return agentTransport(s.sb, s.port, s.ended) }

// agentTransport dials port inside sb for every connection, and nothing once ended is
// closed (a nil ended never closes).
func agentTransport(sb sandbox.Sandbox, port int, ended <-chan struct{}) *http.Transport {
	return &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			select {
			case <-ended:
				return nil, errSessionEnded
			default:
			}
			return sb.DialContext(ctx, "tcp", port)
		},
		Proxy:                 nil, // never an HTTP proxy from the environment
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true, // pass the agent's bytes through untouched
	}
}

// newClient wraps the transport for the manager's own pings; it never follows redirects.
func newClient(t *http.Transport) *http.Client {
	return &http.Client{
		Transport: t,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
