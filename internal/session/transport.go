package session

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// errSessionEnded is what dialing a session that has ended returns.
var errSessionEnded = errors.New("the session has ended")

// newTransport builds the session's own transport: every connection, whatever the URL's
// host, is dialed through the sandbox to the agent's port. Once the session ends it dials
// nothing more, and the end closes its idle connections.
func newTransport(s *session) *http.Transport {
	sb, port := s.sb, s.port
	return &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			select {
			case <-s.ended:
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
