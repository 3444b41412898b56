package server

import (
	"net"
	"strings"

	"berth.dev/berth/internal/config"
)

// publicBaseURL is the base URL clients reach the server at: the configured publicUrl, else
// http:// and the listen address with the port actually bound (so a server listening on
// port 0 names its real port; a wildcard host becomes localhost).
func publicBaseURL(cfg config.Config, bound string) string {
	if cfg.PublicURL != "" {
		return strings.TrimRight(cfg.PublicURL, "/")
	}
	host, _, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return strings.TrimRight(cfg.BaseURL(), "/")
	}
	_, port, err := net.SplitHostPort(bound)
	if err != nil {
		return strings.TrimRight(cfg.BaseURL(), "/")
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
