package egress_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/sandbox/egress"
)

// allowlistWorld starts a Manager whose proxy resolves the test names to the test world.
func allowlistWorld(t *testing.T) (*world, *egress.Network) {
	t.Helper()
	w := newWorld(t)
	m := newManager(t, egress.Config{PoolSize: -1, Hosts: map[string][]netip.Addr{
		"internet.test":    {w.inet.addr},
		"a.wild.test":      {w.inet.addr},
		"unlisted.test":    {w.inet.addr},
		"private.test":     {w.priv10.addr},
		"private192.test":  {w.priv192.addr},
		"metadata.test":    {w.meta.addr},
		"self.test":        {w.hostAddr},
		"loopback.test":    {netip.MustParseAddr("127.0.0.1")},
		"mixed.test":       {w.priv10.addr, w.inet.addr}, // only the public one may be dialed
		"Upper.Wild.Test.": {w.inet.addr},
	}})
	n := prepare(t, m, "allow", sandbox.NetworkPolicy{Mode: sandbox.NetworkAllowlist, AllowedDomains: []string{
		"internet.test", "*.wild.test", "private.test", "private192.test", "metadata.test",
		"self.test", "loopback.test", "mixed.test",
	}})
	return w, n
}

// proxyDial connects to the proxy from inside the sandbox's namespace.
func proxyDial(t *testing.T, n *egress.Network) net.Conn {
	t.Helper()
	c, err := n.NS().Dial(t.Context(), "tcp", "127.0.0.1:3128")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

// connect sends CONNECT target through the proxy and returns the response's status code
// and, unless 200, body, and the tunnel with its reader.
func connect(t *testing.T, n *egress.Network, target string) (int, string, net.Conn, *bufio.Reader) {
	t.Helper()
	c := proxyDial(t, n)
	fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		t.Fatal(err)
	}
	var body string
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
	}
	_ = resp.Body.Close()
	return resp.StatusCode, body, c, br
}

func TestManager_Allowlist_ConnectThroughTunnel(t *testing.T) {
	requireRoot(t)
	checkLeaks(t)
	w, n := allowlistWorld(t)
	for _, target := range []string{"internet.test:80", "a.wild.test:80", "mixed.test:80", "upper.wild.test.:80"} {
		t.Run(target, func(t *testing.T) {
			code, body, c, br := connect(t, n, target)
			if code != http.StatusOK {
				t.Fatalf("CONNECT %s = %d %q, want 200", target, code, body)
			}
			before := w.inet.hits.Load()
			fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", target)
			r, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(r.Body)
			_ = r.Body.Close()
			if err != nil || r.StatusCode != 200 || !strings.HasPrefix(string(b), "internet ") {
				t.Fatalf("GET through the tunnel = %d %q, %v", r.StatusCode, b, err)
			}
			if w.inet.hits.Load() != before+1 {
				t.Fatal("the internet host did not see the request")
			}
		})
	}
}

func TestManager_Allowlist_AbsoluteFormHTTP(t *testing.T) {
	requireRoot(t)
	checkLeaks(t)
	_, n := allowlistWorld(t)
	proxyURL := &url.URL{Scheme: "http", Host: "127.0.0.1:3128"}
	client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL), DialContext: n.NS().Dial}}
	defer client.CloseIdleConnections()
	get := func(u string) (int, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("http://internet.test/path?q=1"); code != 200 || !strings.HasPrefix(body, "internet ") {
		t.Fatalf("GET http://internet.test/ = %d %q", code, body)
	}
	if code, body := get("http://unlisted.test/"); code != http.StatusForbidden || !strings.Contains(body, "not on this runtime's egress allowlist") {
		t.Fatalf("GET http://unlisted.test/ = %d %q, want 403", code, body)
	}
	// Listed, but resolves to a private address: refused while dialing.
	if code, body := get("http://private.test/"); code != http.StatusForbidden || !strings.Contains(body, "resolves only to addresses sandboxes may not reach") {
		t.Fatalf("GET http://private.test/ = %d %q, want 403", code, body)
	}
}

func TestManager_Allowlist_Refusals(t *testing.T) {
	requireRoot(t)
	checkLeaks(t)
	w, n := allowlistWorld(t)
	hitsBefore := map[*testHost]int64{}
	for _, h := range []*testHost{w.inet, w.priv10, w.priv192, w.meta} {
		hitsBefore[h] = h.hits.Load()
	}
	for _, tc := range []struct{ target, why string }{
		{"unlisted.test:80", "not on this runtime's egress allowlist"},
		{"wild.test:80", "not on this runtime's egress allowlist"}, // "*.wild.test" does not cover wild.test
		{"private.test:80", "resolves only to addresses sandboxes may not reach"},
		{"private192.test:80", "resolves only to addresses sandboxes may not reach"},
		{"metadata.test:80", "resolves only to addresses sandboxes may not reach"},
		{"self.test:80", "resolves only to addresses sandboxes may not reach"},
		{"loopback.test:80", "resolves only to addresses sandboxes may not reach"},
		{"198.51.100.10:80", "is an IP address"},
		{"[2001:db8::1]:443", "is an IP address"},
	} {
		t.Run(tc.target, func(t *testing.T) {
			code, body, _, _ := connect(t, n, tc.target)
			if code != http.StatusForbidden || !strings.Contains(body, tc.why) {
				t.Fatalf("CONNECT %s = %d %q, want 403 saying %q", tc.target, code, body, tc.why)
			}
		})
	}
	for h, before := range hitsBefore {
		if got := h.hits.Load(); got != before {
			t.Errorf("%s was reached %d times", h.name, got-before)
		}
	}
}

func TestManager_Allowlist_NamespaceHasNoRoute(t *testing.T) {
	requireRoot(t)
	checkLeaks(t)
	_, n := allowlistWorld(t)
	want := []string{"HTTP_PROXY=http://127.0.0.1:3128", "HTTPS_PROXY=http://127.0.0.1:3128",
		"http_proxy=http://127.0.0.1:3128", "https_proxy=http://127.0.0.1:3128"}
	for _, kv := range want {
		if !slices.Contains(n.Env(), kv) {
			t.Errorf("Env() = %v, missing %s", n.Env(), kv)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	if c, err := n.NS().Dial(ctx, "tcp", "198.51.100.10:80"); err == nil {
		_ = c.Close()
		t.Fatal("an ALLOWLIST sandbox reached the internet host directly")
	}
}
