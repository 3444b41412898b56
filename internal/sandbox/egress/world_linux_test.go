package egress_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"berth.dev/berth/internal/sandbox/egress"
	"berth.dev/berth/internal/sandbox/netns"
)

// Test managers use their own tag and subnet, so they never meet a production Berth's
// table, veths or addresses on the same host.
const (
	testTag   = "t"
	testTable = egress.DefaultTable + "_" + testTag
	testIface = "brth" + testTag + "-"
)

var testSubnet = netip.MustParsePrefix("10.239.0.0/24")

func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("egress tests change the host's network (veths, nftables, sysctl): run them as root")
	}
	if err := netns.Available(); err != nil {
		t.Skipf("network namespaces unavailable: %v", err)
	}
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// newManager starts a test Manager and closes it at the end of the test.
func newManager(t testing.TB, cfg egress.Config) *egress.Manager {
	t.Helper()
	cfg.Tag = testTag
	cfg.Subnet = testSubnet
	if cfg.Resolvers == nil {
		// Never the host's real resolvers: tests that need DNS bring a fake one.
		cfg.Resolvers = []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:9")}
	}
	m, err := egress.New(t.Context(), cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Error(err)
		}
	})
	return m
}

// testHost is a machine of the test world: its own namespace behind a veth pair from the
// host, with an address and an HTTP server on port 80 that answers
// "<name> <client address>" and counts requests.
type testHost struct {
	name string
	ns   *netns.NS
	addr netip.Addr
	hits atomic.Int64
	// udp receives on port 5353; every datagram's payload is sent to datagrams.
	udp       net.PacketConn
	datagrams chan string
}

// newTestHost builds a host named name at peer (the host side of its veth gets hostSide),
// with a default route back through hostSide.
func newTestHost(t testing.TB, name, link string, hostSide, peer netip.Prefix) *testHost {
	t.Helper()
	ns, err := netns.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ns.Close() })
	h := &testHost{name: name, ns: ns, addr: peer.Addr()}
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: link}, PeerName: "eth0", PeerNamespace: netlink.NsFd(ns.Fd())}
	if err := netlink.LinkAdd(veth); err != nil {
		t.Fatalf("create %s: %v", link, err)
	}
	t.Cleanup(func() { deleteLink(t, link) })
	if err := setLink(link, hostSide, netip.Addr{}); err != nil {
		t.Fatal(err)
	}
	if err := ns.Do(func() error { return setLink("eth0", peer, hostSide.Addr()) }); err != nil {
		t.Fatal(err)
	}
	ln, err := ns.Listen("tcp4", netip.AddrPortFrom(peer.Addr(), 80).String())
	if err != nil {
		t.Fatal(err)
	}
	h.udp, err = ns.ListenPacket("udp4", netip.AddrPortFrom(peer.Addr(), 5353).String())
	if err != nil {
		t.Fatal(err)
	}
	h.datagrams = make(chan string, 64)
	var uwg sync.WaitGroup
	uwg.Go(func() {
		buf := make([]byte, 1500)
		for {
			n, _, err := h.udp.ReadFrom(buf)
			if err != nil {
				return
			}
			select {
			case h.datagrams <- string(buf[:n]):
			default:
			}
		}
	})
	t.Cleanup(func() {
		_ = h.udp.Close()
		uwg.Wait()
	})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.hits.Add(1)
		fmt.Fprintf(w, "%s %s", name, r.RemoteAddr)
	}), ReadHeaderTimeout: 5 * time.Second}
	var wg sync.WaitGroup
	wg.Go(func() { _ = srv.Serve(ln) })
	t.Cleanup(func() {
		_ = srv.Close()
		wg.Wait()
	})
	return h
}

// setLink addresses link, sets it up and, if gw is valid, routes everything through gw, in
// the calling thread's namespace.
func setLink(name string, addr netip.Prefix, gw netip.Addr) error {
	l, err := netlink.LinkByName(name)
	if err != nil {
		return fmt.Errorf("find %s: %w", name, err)
	}
	ipn := &net.IPNet{IP: addr.Addr().AsSlice(), Mask: net.CIDRMask(addr.Bits(), 32)}
	if err := netlink.AddrAdd(l, &netlink.Addr{IPNet: ipn}); err != nil {
		return fmt.Errorf("address %s: %w", name, err)
	}
	if err := netlink.LinkSetUp(l); err != nil {
		return fmt.Errorf("up %s: %w", name, err)
	}
	if gw.IsValid() {
		if err := netlink.RouteAdd(&netlink.Route{LinkIndex: l.Attrs().Index, Gw: gw.AsSlice(),
			Dst: &net.IPNet{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)}}); err != nil {
			return fmt.Errorf("route via %s: %w", gw, err)
		}
	}
	return nil
}

func deleteLink(t testing.TB, name string) {
	t.Helper()
	l, err := netlink.LinkByName(name)
	if err != nil {
		return
	}
	if err := netlink.LinkDel(l); err != nil && !errors.Is(err, unix.ENODEV) {
		t.Errorf("delete %s: %v", name, err)
	}
}

// world is the test's picture of a network: an "internet" host at a documentation
// address (198.51.100.10, TEST-NET-2, not in any forbidden range), private hosts at
// 10.98.0.10 and 192.168.231.10, a metadata service at 169.254.169.254, and the host's own
// primary address. All of them live on this machine.
type world struct {
	inet, priv10, priv192, meta *testHost
	hostAddr                    netip.Addr // the host's primary (non-loopback) IPv4 address
}

func newWorld(t testing.TB) *world {
	t.Helper()
	pfx := netip.MustParsePrefix
	w := &world{
		inet:    newTestHost(t, "internet", "egt-inet", pfx("198.51.100.1/24"), pfx("198.51.100.10/24")),
		priv10:  newTestHost(t, "private10", "egt-p10", pfx("10.98.0.1/24"), pfx("10.98.0.10/24")),
		priv192: newTestHost(t, "private192", "egt-p192", pfx("192.168.231.1/24"), pfx("192.168.231.10/24")),
		meta:    newTestHost(t, "metadata", "egt-meta", pfx("169.254.169.253/30"), pfx("169.254.169.254/30")),
	}
	w.hostAddr = primaryAddr(t)
	return w
}

// primaryAddr returns the source address of the host's default route, or failing that its
// first global IPv4 address outside the test world.
func primaryAddr(t testing.TB) netip.Addr {
	t.Helper()
	routes, err := netlink.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes {
		if r.Dst == nil || r.Dst.IP.IsUnspecified() {
			l, err := netlink.LinkByIndex(r.LinkIndex)
			if err != nil {
				continue
			}
			addrs, _ := netlink.AddrList(l, netlink.FAMILY_V4)
			for _, a := range addrs {
				if ip, ok := netip.AddrFromSlice(a.IP); ok {
					return ip.Unmap()
				}
			}
		}
	}
	addrs, err := netlink.AddrList(nil, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		ip, _ := netip.AddrFromSlice(a.IP)
		ip = ip.Unmap()
		l, _ := netlink.LinkByIndex(a.LinkIndex)
		if ip.IsGlobalUnicast() && l != nil && !strings.HasPrefix(l.Attrs().Name, "egt-") &&
			!strings.HasPrefix(l.Attrs().Name, "brth") {
			return ip
		}
	}
	t.Skip("the host has no IPv4 address besides loopback")
	return netip.Addr{}
}

// httpGet fetches url with a client whose connections are made by dial.
func httpGet(ctx context.Context, dial func(context.Context, string, string) (net.Conn, error), url string) (int, string, error) {
	c := &http.Client{Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true}}
	defer c.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}
