package egress

import (
	"io"
	"log/slog"
	"net"
	"net/netip"
)

// StartDNS serves a DNS forwarder on pc and ln that relays to upstreams.
func StartDNS(pc net.PacketConn, ln net.Listener, upstreams []netip.AddrPort, log *slog.Logger) io.Closer {
	return startDNS(pc, ln, upstreams, log)
}
