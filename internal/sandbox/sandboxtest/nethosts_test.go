//go:build linux

package sandboxtest

import (
	"bufio"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"
)

func TestRandomAddr(t *testing.T) {
	for _, p := range []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "198.51.100.0/24"} {
		prefix := netip.MustParsePrefix(p)
		for range 200 {
			a := randomAddr(prefix)
			if !prefix.Contains(a) || a.As4()[3] == 0 || a.As4()[3] == 255 {
				t.Fatalf("randomAddr(%s) = %s", p, a)
			}
		}
	}
}

// A test host is reachable from the host at its address and nowhere else, counts the
// connections it accepts, and leaves no interface or route behind.
func TestTestHost(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("test hosts need root (network namespaces, veth pairs)")
	}
	var veth string
	addr := randomAddr(netip.MustParsePrefix("198.51.100.0/24"))
	t.Run("serve", func(t *testing.T) {
		th := newTestHost(t, addr, 80, "internet", nil)
		veth = th.veth
		if th.Addr() != netip.AddrPortFrom(addr, 80).String() {
			t.Fatalf("Addr() = %s, want %s:80", th.Addr(), addr)
		}
		c, err := net.DialTimeout("tcp", th.Addr(), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(c).ReadString('\n')
		_ = c.Close()
		if err != nil || line != th.banner {
			t.Fatalf("read %q, %v; want the banner %q", line, err, th.banner)
		}
		if n := th.accepts.Load(); n != 1 {
			t.Errorf("accepts = %d after one connection (the host's own check does not count), want 1", n)
		}
	})
	out, err := ipCmd(t.Context(), "-4", "route", "show", addr.String()+"/32", "table", "all")
	if err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("route to %s after cleanup: %q, %v", addr, out, err)
	}
	if _, err := net.InterfaceByName(veth); err == nil {
		t.Errorf("interface %s exists after cleanup", veth)
	}
}
