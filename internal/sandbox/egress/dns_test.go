package egress_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"berth.dev/berth/internal/sandbox/egress"
)

// startForwarder serves a DNS forwarder on the host's loopback and returns its address.
func startForwarder(t *testing.T, upstreams ...netip.AddrPort) (string, io.Closer) {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp4", pc.LocalAddr().String())
	if err != nil {
		_ = pc.Close()
		t.Skipf("no free TCP port matching UDP %s: %v", pc.LocalAddr(), err)
	}
	f := egress.StartDNS(pc, ln, upstreams, slog.New(slog.NewTextHandler(t.Output(), nil)))
	t.Cleanup(func() { _ = f.Close() })
	return pc.LocalAddr().String(), f
}

func resolverAt(network, addr string) *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
}

// strayUpstream answers every UDP query twice: first with a wrong ID, then properly.
func strayUpstream(t *testing.T) netip.AddrPort {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]byte, 65535)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			resp, err := dnsAnswer(buf[:n])
			if err != nil {
				continue
			}
			wrong := append([]byte(nil), resp...)
			wrong[0] ^= 0xff
			_, _ = pc.WriteTo(wrong, from)
			_, _ = pc.WriteTo(resp, from)
		}
	})
	t.Cleanup(func() {
		_ = pc.Close()
		wg.Wait()
	})
	return netip.MustParseAddrPort(pc.LocalAddr().String())
}

func TestDNSForwarder_FailsOverAndMatchesIDs(t *testing.T) {
	checkLeaks(t)
	closed := netip.MustParseAddrPort("127.0.0.1:1") // nothing listens: refused at once
	addr, _ := startForwarder(t, closed, strayUpstream(t))
	got, err := resolverAt("udp", addr).LookupNetIP(t.Context(), "ip4", "a.example.test")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != fakeDNSAnswer {
		t.Fatalf("lookup = %v, want [%v]", got, fakeDNSAnswer)
	}
}

func TestDNSForwarder_TCP(t *testing.T) {
	checkLeaks(t)
	up := newFakeDNS(t)
	addr, _ := startForwarder(t, up.Addr)
	r := resolverAt("tcp", addr)
	for range 3 {
		got, err := r.LookupNetIP(t.Context(), "ip4", "b.example.test")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0] != fakeDNSAnswer {
			t.Fatalf("lookup = %v", got)
		}
	}
	if up.Queries("tcp") < 3 || up.Queries("udp") != 0 {
		t.Fatalf("upstream saw %d TCP and %d UDP queries; want TCP only", up.Queries("tcp"), up.Queries("udp"))
	}
}

func TestDNSForwarder_CloseAbortsQueriesInFlight(t *testing.T) {
	checkLeaks(t)
	// An upstream that reads queries and never answers.
	hole, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan struct{}, 1)
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]byte, 512)
		for {
			if _, _, err := hole.ReadFrom(buf); err != nil {
				return
			}
			select {
			case got <- struct{}{}:
			default:
			}
		}
	})
	defer wg.Wait()
	defer func() { _ = hole.Close() }()
	addr, f := startForwarder(t, netip.MustParseAddrPort(hole.LocalAddr().String()))
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	q := []byte{0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1} // header + root A question
	if _, err := c.Write(q); err != nil {
		t.Fatal(err)
	}
	select {
	case <-got: // the query is now waiting on the upstream
	case <-time.After(5 * time.Second):
		t.Fatal("the query never reached the upstream")
	}
	start := time.Now()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("Close took %v; it should abort the query, not wait for its timeout", took)
	}
}
