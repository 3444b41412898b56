package egress

import (
	"net/netip"
	"strings"
	"testing"
)

func TestAddrGuard_Allowed(t *testing.T) {
	g := addrGuard{
		blocked: append(ForbiddenPrefixes(), netip.MustParsePrefix("203.0.113.0/28")),
		local: func() ([]netip.Addr, error) {
			return []netip.Addr{netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("::1")}, nil
		},
	}
	for addr, want := range map[string]bool{
		"198.51.100.10":      true,
		"8.8.8.8":            true,
		"203.0.113.20":       true,
		"::ffff:8.8.8.8":     true,  // IPv4-mapped is judged as IPv4
		"203.0.113.5":        false, // Config.Blocked
		"192.0.2.2":          false, // the host's own address
		"10.1.2.3":           false,
		"172.16.0.1":         false,
		"172.31.255.255":     false,
		"192.168.1.1":        false,
		"100.64.0.1":         false,
		"100.127.255.254":    false,
		"127.0.0.1":          false,
		"127.8.9.10":         false,
		"169.254.169.254":    false,
		"0.0.0.0":            false,
		"224.0.0.1":          false,
		"255.255.255.255":    false,
		"::ffff:10.0.0.1":    false,
		"::ffff:169.254.1.1": false,
		"2001:4860::8888":    false, // IPv6 is never dialed
		"fd00::1":            false,
		"fe80::1":            false,
	} {
		got, err := g.allowed(netip.MustParseAddr(addr))
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("allowed(%s) = %v, want %v", addr, got, want)
		}
	}
}

func TestForbiddenPrefixes_CoverThePolicy(t *testing.T) {
	// The ranges the policy names must each be inside a forbidden prefix.
	for _, p := range []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
		"169.254.0.0/16", "127.0.0.0/8", "224.0.0.0/4"} {
		want := netip.MustParsePrefix(p)
		covered := false
		for _, f := range ForbiddenPrefixes() {
			covered = covered || (f.Bits() <= want.Bits() && f.Contains(want.Addr()))
		}
		if !covered {
			t.Errorf("%s is not forbidden", p)
		}
	}
	// TEST-NET ranges stay reachable: the tests use them as "the internet".
	for _, f := range ForbiddenPrefixes() {
		for _, a := range []string{"192.0.2.1", "198.51.100.10", "203.0.113.1"} {
			if f.Contains(netip.MustParseAddr(a)) {
				t.Errorf("%s forbids documentation address %s", f, a)
			}
		}
	}
}

func TestParseResolvers(t *testing.T) {
	got, err := parseResolvers(strings.NewReader("# comment\nsearch example.com\nnameserver 10.255.255.53\n" +
		"nameserver fe80::1%eth0\nnameserver bogus\noptions ndots:2\nnameserver 1.1.1.1 # trailing\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.AddrPort{
		netip.MustParseAddrPort("10.255.255.53:53"),
		netip.AddrPortFrom(netip.MustParseAddr("fe80::1%eth0"), 53),
		netip.MustParseAddrPort("1.1.1.1:53"),
	}
	if len(got) != len(want) {
		t.Fatalf("resolvers = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("resolvers = %v, want %v", got, want)
		}
	}
	none, err := parseResolvers(strings.NewReader("search example.com\n"))
	if err != nil || len(none) != 2 || none[0] != netip.MustParseAddrPort("127.0.0.1:53") {
		t.Fatalf("no nameserver lines: %v, %v; want the local host", none, err)
	}
}

func TestSlots_RoundRobinAndAddresses(t *testing.T) {
	s, err := newSlots(netip.MustParsePrefix("10.231.0.0/28")) // 4 blocks
	if err != nil {
		t.Fatal(err)
	}
	for want := range 4 {
		if i, err := s.acquire(); err != nil || i != want {
			t.Fatalf("acquire = %d, %v; want %d", i, err, want)
		}
	}
	if _, err := s.acquire(); err == nil {
		t.Fatal("a fifth block out of four")
	}
	s.release(1)
	s.release(0)
	if i, _ := s.acquire(); i != 0 {
		t.Fatalf("after releasing 1 then 0, got block %d; want 0 (next in round-robin order)", i)
	}
	if i, _ := s.acquire(); i != 1 {
		t.Fatalf("got block %d, want 1", i)
	}
	host, sb := s.addrs(3)
	if host.String() != "10.231.0.13/30" || sb.String() != "10.231.0.14/30" {
		t.Fatalf("block 3 = %s, %s", host, sb)
	}
	for _, bad := range []string{"10.0.0.0/31", "fd00::/64", "10.0.0.0/8"} {
		if _, err := newSlots(netip.MustParsePrefix(bad)); err == nil {
			t.Errorf("newSlots(%s) accepted", bad)
		}
	}
}

func TestConfig_Defaults(t *testing.T) {
	c, err := Config{Hosts: map[string][]netip.Addr{"Api.Example.COM.": nil}}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.PoolSize != DefaultPoolSize || c.Subnet != DefaultSubnet || c.ProxyPort != DefaultProxyPort ||
		c.table() != DefaultTable || c.ifacePrefix() != "brth-" || c.Resolver == nil {
		t.Fatalf("defaults: %+v", c)
	}
	if _, ok := c.Hosts["api.example.com"]; !ok {
		t.Fatalf("Hosts keys not normalized: %v", c.Hosts)
	}
	for _, bad := range []Config{{Tag: "Bad"}, {Tag: "toolong"}, {Tag: "a-b"},
		{Blocked: []netip.Prefix{netip.MustParsePrefix("fd00::/8")}}} {
		if _, err := bad.withDefaults(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
