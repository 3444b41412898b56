package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/internal/sandbox/netns"
)

// internetPrefix is where internet hosts of the examples' tests live: TEST-NET-3, which
// sandbox egress treats as the public internet (the egress and sandbox tests use TEST-NET-2,
// so the two never compete for an address).
var internetPrefix = netip.MustParsePrefix("203.0.113.0/24")

// serveOnInternet serves h on port 80 of an "internet host": an address in TEST-NET-3 that
// lives in a network namespace of its own, joined to the host by a veth pair, with the host
// routing that one address (/32) to it. To a sandbox with PUBLIC egress it is a machine on
// the internet, reached through Berth's NAT like any other; nothing about the sandbox's
// isolation is relaxed for it (the host's own addresses and private ranges stay forbidden,
// which is why a server on the host's loopback would not do). It returns "http://ADDR".
func serveOnInternet(t *testing.T, h http.Handler) string {
	t.Helper()
	for try := 0; ; try++ {
		url, err := tryServeOnInternet(t, randomInternetAddr(), h)
		if err == nil {
			return url
		}
		if !errors.Is(err, errAddrRouted) || try == 4 {
			t.Fatalf("internet host: %v", err)
		}
	}
}

var errAddrRouted = errors.New("address already routed on this host")

func tryServeOnInternet(t *testing.T, addr netip.Addr, h http.Handler) (string, error) {
	ctx := context.Background()
	if out, _ := runIP(ctx, "-4", "route", "show", addr.String()+"/32", "table", "all"); strings.TrimSpace(out) != "" {
		return "", fmt.Errorf("%w: %s", errAddrRouted, strings.TrimSpace(out))
	}
	ns, err := netns.New()
	if err != nil {
		return "", err
	}
	var suffix [4]byte
	_, _ = rand.Read(suffix[:])
	hostSide, peer := "exh"+hex.EncodeToString(suffix[:]), "exp"+hex.EncodeToString(suffix[:])
	cleanup := func() {
		_, _ = runIP(context.Background(), "link", "del", hostSide) // takes the peer and the route along
		_ = ns.Close()
	}
	if _, err := runIP(ctx, "link", "add", hostSide, "type", "veth", "peer", "name", peer, "netns", ns.Path()); err != nil {
		_ = ns.Close()
		return "", err
	}
	// Inside: the address on the peer, and every reply back over the veth.
	err = ns.Do(func() error {
		for _, args := range [][]string{
			{"addr", "add", addr.String() + "/32", "dev", peer},
			{"link", "set", peer, "up"},
			{"route", "add", "default", "dev", peer},
		} {
			if _, err := runIP(ctx, args...); err != nil {
				return err
			}
		}
		return nil
	})
	// Outside: proxy ARP, so the host answers for whatever source it forwards (its own
	// address, masqueraded sandbox traffic), and the route to the address.
	if err == nil {
		err = os.WriteFile("/proc/sys/net/ipv4/conf/"+hostSide+"/proxy_arp", []byte("1\n"), 0o644) //nolint:gosec // a sysctl, world-readable by design
	}
	for _, args := range [][]string{{"link", "set", hostSide, "up"}, {"route", "add", addr.String() + "/32", "dev", hostSide}} {
		if err != nil {
			break
		}
		_, err = runIP(ctx, args...)
	}
	if err != nil {
		cleanup()
		if strings.Contains(err.Error(), "File exists") {
			return "", fmt.Errorf("%w: %w", errAddrRouted, err)
		}
		return "", err
	}
	ln, err := ns.Listen("tcp", netip.AddrPortFrom(addr, 80).String())
	if err != nil {
		cleanup()
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		<-done
		cleanup()
	})
	url := "http://" + addr.String()
	// The host reaches it too; if it did not, a failing sandbox would prove nothing.
	c, err := net.DialTimeout("tcp", addr.String()+":80", 5*time.Second)
	if err != nil {
		return "", fmt.Errorf("the host cannot reach its own internet host %s: %w", url, err)
	}
	_ = c.Close()
	return url, nil
}

// randomInternetAddr picks a host address in internetPrefix.
func randomInternetAddr() netip.Addr {
	b := internetPrefix.Addr().As4()
	var r [1]byte
	_, _ = rand.Read(r[:])
	b[3] = 2 + r[0]%250
	return netip.AddrFrom4(b)
}

// runIP runs ip(8) from iproute2.
func runIP(ctx context.Context, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}
