package egress_test

import (
	"context"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/sandbox/egress"
)

var public = sandbox.NetworkPolicy{Mode: sandbox.NetworkPublic}

func prepare(t testing.TB, m *egress.Manager, id string, p sandbox.NetworkPolicy) *egress.Network {
	t.Helper()
	n, err := m.Prepare(t.Context(), id, p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Error(err)
		}
	})
	return n
}

// countingListener accepts and counts connections until the test ends.
func countingListener(t testing.TB, ln net.Listener) *atomic.Int64 {
	t.Helper()
	var n atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			_ = c.Close()
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
	})
	return &n
}

func TestManager_Public_ReachesTheInternetAndNothingElse(t *testing.T) {
	requireRoot(t)
	checkLeaks(t)
	w := newWorld(t)
	m := newManager(t, egress.Config{PoolSize: 2})
	a := prepare(t, m, "a", public)
	b := prepare(t, m, "b", public)
	ctx := t.Context()

	// The internet answers, and sees the host's address on that link (masquerade).
	code, body, err := httpGet(ctx, a.NS().Dial, "http://198.51.100.10/")
	if err != nil || code != 200 || !strings.HasPrefix(body, "internet 198.51.100.1:") {
		t.Fatalf("GET internet from a PUBLIC sandbox = %d %q, %v; want 200 from internet via 198.51.100.1", code, body, err)
	}

	// Listeners that must stay unreachable from the sandbox: every address of the host,
	// and another sandbox.
	hostLn, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	hostPort := strconv.Itoa(hostLn.Addr().(*net.TCPAddr).Port)
	hostHits := countingListener(t, hostLn)
	bLn, err := b.NS().Listen("tcp4", "0.0.0.0:9000")
	if err != nil {
		t.Fatal(err)
	}
	bHits := countingListener(t, bLn)

	// Controls: each target is reachable by someone, so a refusal below is the policy's.
	if c, err := net.Dial("tcp", net.JoinHostPort(w.hostAddr.String(), hostPort)); err != nil {
		t.Fatalf("control: the host cannot reach its own listener: %v", err)
	} else {
		_ = c.Close()
	}
	if c, err := b.NS().Dial(ctx, "tcp", "127.0.0.1:9000"); err != nil {
		t.Fatalf("control: sandbox b cannot reach its own listener: %v", err)
	} else {
		_ = c.Close()
	}
	for _, h := range []*testHost{w.priv10, w.priv192, w.meta} {
		if code, _, err := httpGet(ctx, (&net.Dialer{}).DialContext, "http://"+h.addr.String()+"/"); err != nil || code != 200 {
			t.Fatalf("control: the host cannot reach %s: %d %v", h.name, code, err)
		}
	}
	baseHits := map[*testHost]int64{w.priv10: w.priv10.hits.Load(), w.priv192: w.priv192.hits.Load(), w.meta: w.meta.hits.Load()}
	baseHost, baseB := hostHits.Load(), bHits.Load()

	gw := a.Addr().Prev()
	for _, tc := range []struct{ name, addr string }{
		{"private host in 10/8", "10.98.0.10:80"},
		{"private host in 192.168/16", "192.168.231.10:80"},
		{"metadata service 169.254.169.254", "169.254.169.254:80"},
		{"host primary address " + w.hostAddr.String(), net.JoinHostPort(w.hostAddr.String(), hostPort)},
		{"host loopback", "127.0.0.1:" + hostPort},
		{"host side of the sandbox's own veth", net.JoinHostPort(gw.String(), hostPort)},
		{"host address on the internet link", "198.51.100.1:" + hostPort},
		{"another PUBLIC sandbox", net.JoinHostPort(b.Addr().String(), "9000")},
		{"IPv6", "[2001:db8::10]:80"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			defer cancel()
			start := time.Now()
			c, err := a.NS().Dial(dctx, "tcp", tc.addr)
			took := time.Since(start)
			if err == nil {
				_ = c.Close()
				t.Fatalf("dial %s from a PUBLIC sandbox succeeded", tc.addr)
			}
			if took > time.Second {
				t.Errorf("dial %s failed only after %v (%v); want an immediate refusal", tc.addr, took, err)
			}
			t.Logf("dial %s: %v after %v", tc.addr, err, took.Round(time.Microsecond))
		})
	}
	for h, base := range baseHits {
		if got := h.hits.Load(); got != base {
			t.Errorf("%s got %d requests from the sandbox", h.name, got-base)
		}
	}
	if hostHits.Load() != baseHost || bHits.Load() != baseB {
		t.Errorf("connections accepted from the sandbox: host %d, sandbox b %d; want none",
			hostHits.Load()-baseHost, bHits.Load()-baseB)
	}

	// Nor may the host itself open a connection into a sandbox.
	c, err := (&net.Dialer{Timeout: 300 * time.Millisecond}).DialContext(ctx, "tcp", net.JoinHostPort(b.Addr().String(), "9000"))
	if err == nil {
		_ = c.Close()
		t.Fatal("the host connected into a PUBLIC sandbox")
	}
	if bHits.Load() != baseB {
		t.Fatal("sandbox b accepted a connection from the host")
	}
}

func TestManager_Public_DNSForwarder(t *testing.T) {
	requireRoot(t)
	checkLeaks(t)
	up := newFakeDNS(t)
	m := newManager(t, egress.Config{PoolSize: -1, Resolvers: []netip.AddrPort{
		netip.MustParseAddrPort("127.0.0.1:1"), // nothing listens: the forwarder must try the next
		up.Addr,
	}})
	n := prepare(t, m, "dns", public)
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return n.NS().Dial(ctx, network, "127.0.0.1:53")
			}}
			before := up.Queries(network)
			got, err := r.LookupNetIP(t.Context(), "ip4", "api.example.test")
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0] != fakeDNSAnswer {
				t.Fatalf("lookup = %v, want [%v]", got, fakeDNSAnswer)
			}
			if up.Queries(network) == before {
				t.Fatalf("the upstream saw no %s query", network)
			}
		})
	}
}

func TestManager_Public_PoolHandsOutFreshNamespaces(t *testing.T) {
	requireRoot(t)
	checkLeaks(t)
	m := newManager(t, egress.Config{PoolSize: 2})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := egress.WaitPoolReady(ctx, m, 2); err != nil {
		t.Fatal(err)
	}
	n1, err := m.Prepare(ctx, "one", public)
	if err != nil {
		t.Fatal(err)
	}
	ino1, addr1 := nsInode(t, n1.NS().Path()), n1.Addr()
	veth1 := vethOf(t, addr1)
	// Hold the first namespace so its inode number cannot be recycled for a new one: the
	// kernel reuses freed namespace inode numbers, and only a handed-out-again namespace
	// may then have the same one.
	held, err := os.Open(n1.NS().Path())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = held.Close() }()
	if err := n1.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := netlink.LinkByName(veth1); err == nil {
		t.Fatalf("veth %s still exists after Close", veth1)
	}
	if err := egress.WaitPoolReady(ctx, m, 2); err != nil {
		t.Fatalf("the pool was not refilled: %v", err)
	}
	seen := map[netip.Addr]bool{addr1: true}
	for i := range 3 {
		n := prepare(t, m, "next", public)
		if nsInode(t, n.NS().Path()) == ino1 {
			t.Fatalf("namespace of a closed sandbox handed out again (prepare %d)", i)
		}
		if seen[n.Addr()] {
			t.Fatalf("address %v handed out twice", n.Addr())
		}
		seen[n.Addr()] = true
	}
}

func TestManager_Public_ColdWithoutPool(t *testing.T) {
	requireRoot(t)
	checkLeaks(t)
	newWorld(t)
	m := newManager(t, egress.Config{PoolSize: -1})
	n := prepare(t, m, "cold", public)
	if code, body, err := httpGet(t.Context(), n.NS().Dial, "http://198.51.100.10/"); err != nil || code != 200 {
		t.Fatalf("GET internet = %d %q, %v", code, body, err)
	}
}

// vethOf returns the name of the host-side veth whose /30 holds sandbox address a.
func vethOf(t testing.TB, a netip.Addr) string {
	t.Helper()
	links, err := netlink.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range links {
		if !strings.HasPrefix(l.Attrs().Name, testIface) {
			continue
		}
		addrs, _ := netlink.AddrList(l, netlink.FAMILY_V4)
		for _, ad := range addrs {
			if ip, ok := netip.AddrFromSlice(ad.IP); ok && ip.Unmap() == a.Prev() {
				return l.Attrs().Name
			}
		}
	}
	t.Fatalf("no veth for %v", a)
	return ""
}

func nsInode(t testing.TB, path string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

func TestManager_Public_SpoofedSourceDropped(t *testing.T) {
	requireRoot(t)
	checkLeaks(t)
	w := newWorld(t)
	m := newManager(t, egress.Config{PoolSize: -1})
	a := prepare(t, m, "a", public)
	b := prepare(t, m, "b", public)
	// Sandbox a takes b's address as a second one (as a sandbox with CAP_NET_ADMIN could).
	if err := a.NS().Do(func() error {
		l, err := netlink.LinkByName("eth0")
		if err != nil {
			return err
		}
		return netlink.AddrAdd(l, &netlink.Addr{IPNet: &net.IPNet{IP: b.Addr().AsSlice(), Mask: net.CIDRMask(32, 32)}})
	}); err != nil {
		t.Fatal(err)
	}
	send := func(from netip.Addr, msg string) {
		t.Helper()
		if err := a.NS().Do(func() error {
			c, err := net.DialUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(from, 0)),
				net.UDPAddrFromAddrPort(netip.AddrPortFrom(w.inet.addr, 5353)))
			if err != nil {
				return err
			}
			defer func() { _ = c.Close() }()
			_, err = c.Write([]byte(msg))
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	expect := func(want string) {
		t.Helper()
		select {
		case got := <-w.inet.datagrams:
			if got != want {
				t.Fatalf("the internet host received %q, want %q", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("the internet host never received %q", want)
		}
	}
	send(a.Addr(), "first")
	expect("first")
	send(b.Addr(), "spoofed")
	send(a.Addr(), "last")
	expect("last") // "spoofed" was sent in between: it must not have arrived
}
