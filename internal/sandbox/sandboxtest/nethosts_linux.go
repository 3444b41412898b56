package sandboxtest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"berth.dev/berth/internal/sandbox/netns"
)

// connectTimeout bounds each connection attempt a sandbox makes to a test service.
const connectTimeout = 2 * time.Second

// service is a TCP listener of the test that greets every connection with a banner and
// counts them, so a test can tell whether a sandbox reached it at all.
type service struct {
	ln      net.Listener
	name    string
	banner  string
	accepts atomic.Int64
	wg      sync.WaitGroup
}

// serve serves ln until the test ends.
func serve(t *testing.T, ln net.Listener, name string) *service {
	t.Helper()
	s := &service{ln: ln, name: name, banner: "sbxtest " + rand.Text() + "\n"}
	s.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepts.Add(1)
			_ = c.SetDeadline(time.Now().Add(connectTimeout))
			_, _ = io.WriteString(c, s.banner)
			_ = c.Close()
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		s.wg.Wait()
	})
	return s
}

// Addr is the service's address, "ip:port".
func (s *service) Addr() string { return s.ln.Addr().String() }

// checkFromHost fails the test unless the host itself reaches the service: a case that
// asserts a sandbox cannot reach it proves nothing otherwise.
func (s *service) checkFromHost(t *testing.T) {
	t.Helper()
	c, err := net.DialTimeout("tcp", s.Addr(), connectTimeout)
	if err != nil {
		t.Fatalf("test service %s is unreachable from the host: %v", s.Addr(), err)
	}
	defer func() { _ = c.Close() }()
	_ = c.SetDeadline(time.Now().Add(connectTimeout))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || line != s.banner {
		t.Fatalf("test service %s answered the host %q, %v; want its banner", s.Addr(), line, err)
	}
	s.accepts.Add(-1) // the host's own visit does not count
}

// listenHost serves a listener on the host at addr ("127.0.0.1:0").
func listenHost(t *testing.T, addr, name string) *service {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen on the host at %s: %v", addr, err)
	}
	return serve(t, ln, name)
}

// primaryAddrs returns the host's addresses on the interface of its default route (or the
// first interface that is up and not loopback): at most one global IPv4 and one global
// IPv6 address.
func primaryAddrs(t *testing.T) []netip.Addr {
	t.Helper()
	ifName := defaultRouteInterface()
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	var v4, v6 netip.Addr
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 || (ifName != "" && ifc.Name != ifName) {
			continue
		}
		as, err := ifc.Addrs()
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range as {
			p, err := netip.ParsePrefix(a.String())
			if err != nil || !p.Addr().IsGlobalUnicast() {
				continue
			}
			switch ip := p.Addr(); {
			case ip.Is4() && !v4.IsValid():
				v4 = ip
			case ip.Is6() && !v6.IsValid():
				v6 = ip
			}
		}
		if v4.IsValid() || v6.IsValid() {
			break
		}
	}
	var out []netip.Addr
	for _, a := range []netip.Addr{v4, v6} {
		if a.IsValid() {
			out = append(out, a)
		}
	}
	return out
}

// defaultRouteInterface names the interface of the IPv4 default route, or "".
func defaultRouteInterface() string {
	raw, err := os.ReadFile("/proc/net/route")
	if err != nil {
		return ""
	}
	for line := range strings.Lines(string(raw)) {
		f := strings.Fields(line)
		if len(f) > 2 && f[1] == "00000000" && f[0] != "Iface" {
			return f[0]
		}
	}
	return ""
}

// testHost is a TCP service at a fixed address that looks, to the host, like a remote
// machine: it lives in a network namespace of its own, joined to the host by a veth pair,
// and the host routes the address (/32) to that veth. It answers like a service.
type testHost struct {
	*service
	ns   *netns.NS
	veth string // host side; deleting it deletes the pair and the route
}

// newTestHost creates a test host at addr:port. If another test on this machine already
// routes addr, it retries with next(addr) (nil: fail).
func newTestHost(t *testing.T, addr netip.Addr, port uint16, name string, next func() netip.Addr) *testHost {
	t.Helper()
	for try := 0; ; try++ {
		h, err := tryTestHost(t, addr, port, name)
		if err == nil {
			h.checkFromHost(t)
			return h
		}
		if !errors.Is(err, errAddrTaken) || next == nil || try == 4 {
			t.Fatalf("create test host %s: %v", addr, err)
		}
		addr = next()
	}
}

// InternetHost starts a test host on port 80 at a random address of TEST-NET-2
// (198.51.100.0/24), which egress policies treat as the internet, for a driver test of
// its own egress cases (an allowlist proxy's upstream). It returns the address and the
// banner the host greets every connection with, then closes it. It needs root.
func InternetHost(t *testing.T) (netip.AddrPort, string) {
	t.Helper()
	p := netip.MustParsePrefix("198.51.100.0/24")
	h := newTestHost(t, randomAddr(p), 80, "internet", func() netip.Addr { return randomAddr(p) })
	return netip.MustParseAddrPort(h.Addr()), h.banner
}

var errAddrTaken = errors.New("address already routed on this host")

func tryTestHost(t *testing.T, addr netip.Addr, port uint16, name string) (*testHost, error) {
	if out, _ := ipCmd(t.Context(), "-4", "route", "show", addr.String()+"/32", "table", "all"); strings.TrimSpace(out) != "" {
		return nil, fmt.Errorf("%w: %s", errAddrTaken, strings.TrimSpace(out))
	}
	ns, err := netns.New()
	if err != nil {
		return nil, err
	}
	suffix := hex.EncodeToString([]byte(rand.Text()[:4]))
	h := &testHost{ns: ns, veth: "sbxh" + suffix}
	peer := "sbxp" + suffix
	cleanup := func() {
		_, _ = ipCmd(context.Background(), "link", "del", h.veth)
		_ = ns.Close()
	}
	ctx := t.Context()
	steps := [][]string{{"link", "add", h.veth, "type", "veth", "peer", "name", peer, "netns", ns.Path()}}
	for _, s := range steps {
		if _, err := ipCmd(ctx, s...); err != nil {
			cleanup()
			return nil, err
		}
	}
	// Inside: the address on the peer, and every reply back to the host over the veth.
	err = ns.Do(func() error {
		for _, s := range [][]string{
			{"addr", "add", addr.String() + "/32", "dev", peer},
			{"link", "set", peer, "up"},
			{"route", "add", "default", "dev", peer},
		} {
			if _, err := ipCmd(ctx, s...); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		// Outside: the route to the address, and proxy ARP so that the host answers for
		// any source it routes (its own addresses, or a sandbox's it forwards for).
		err = os.WriteFile("/proc/sys/net/ipv4/conf/"+h.veth+"/proxy_arp", []byte("1\n"), 0o644)
	}
	for _, s := range [][]string{{"link", "set", h.veth, "up"}, {"route", "add", addr.String() + "/32", "dev", h.veth}} {
		if err != nil {
			break
		}
		_, err = ipCmd(ctx, s...)
	}
	if err != nil {
		cleanup()
		if strings.Contains(err.Error(), "File exists") {
			return nil, fmt.Errorf("%w: %w", errAddrTaken, err)
		}
		return nil, err
	}
	ln, err := ns.Listen("tcp", netip.AddrPortFrom(addr, port).String())
	if err != nil {
		cleanup()
		return nil, err
	}
	t.Cleanup(cleanup) // runs after the service's own cleanup closed the listener
	h.service = serve(t, ln, name)
	return h, nil
}

// ipCmd runs ip(8) from iproute2 and returns its output.
func ipCmd(ctx context.Context, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// randomAddr returns prefix's network address with its host bits set at random (never
// all zeros or all ones in the last byte).
func randomAddr(prefix netip.Prefix) netip.Addr {
	b := prefix.Masked().Addr().As4()
	var r [4]byte
	_, _ = rand.Read(r[:])
	bits := prefix.Bits()
	for i := range 4 {
		keep := min(max(bits-8*i, 0), 8)
		mask := byte(0xff << (8 - keep))
		b[i] = b[i]&mask | r[i]&^mask
	}
	if b[3] == 0 || b[3] == 255 {
		b[3] = 10
	}
	return netip.AddrFrom4(b)
}
