package egress

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
)

// DefaultResolvConf is where the host's resolvers are read from.
const DefaultResolvConf = "/etc/resolv.conf"

// readResolvers returns the nameservers of a resolv.conf file, each on port 53. Like the C
// library, it falls back to the local host (127.0.0.1 and ::1) when the file names none.
func readResolvers(path string) ([]netip.AddrPort, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read resolvers: %w", err)
	}
	defer func() { _ = f.Close() }()
	rs, err := parseResolvers(f)
	if err != nil {
		return nil, fmt.Errorf("read resolvers from %s: %w", path, err)
	}
	return rs, nil
}

func parseResolvers(r io.Reader) ([]netip.AddrPort, error) {
	var out []netip.AddrPort
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || f[0] != "nameserver" {
			continue
		}
		a, err := netip.ParseAddr(f[1])
		if err != nil {
			continue // the C library skips unparsable entries too
		}
		out = append(out, netip.AddrPortFrom(a, 53))
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		out = []netip.AddrPort{
			netip.MustParseAddrPort("127.0.0.1:53"),
			netip.MustParseAddrPort("[::1]:53"),
		}
	}
	return out, nil
}
