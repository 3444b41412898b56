//go:build linux

package microvm_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/sandbox/egress"
	"berth.dev/berth/internal/sandbox/microvm"
	"berth.dev/berth/internal/sandbox/sandboxtest"
)

// otlpAddr is where the server's agent OTLP endpoint listens in every sandbox
// (internal/telemetry/agentotlp).
const otlpAddr = "127.0.0.1:4318"

// TestDriver_Egress starts a sandbox of each egress mode with the egress manager Berth
// uses, from its agent snapshot (the path sessions take), and checks from inside what it
// reaches: the OTLP endpoint opened with Listen in every mode; with PUBLIC, an internet
// host by name (the session's DNS forwarder relays to the test's resolver); with
// ALLOWLIST, a listed host through the proxy but not an unlisted one nor anything
// directly; with NONE, nothing.
func TestDriver_Egress(t *testing.T) {
	e := setup(t)
	inet, banner := sandboxtest.InternetHost(t) // skips unless root
	dns := sandboxtest.StartDNS(t, map[string]netip.Addr{"internet.test.": inet.Addr()}, netip.Addr{})
	m, err := egress.New(t.Context(), egress.Config{
		Tag:       "mvme",
		Subnet:    netip.MustParsePrefix("10.237.0.0/24"),
		PoolSize:  -1,
		Resolvers: []netip.AddrPort{dns.Addr},
		Hosts:     map[string][]netip.Addr{"allowed.test": {inet.Addr()}, "unlisted.test": {inet.Addr()}},
	}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	d := newDriverWith(t, e, microvm.Config{StateDir: t.TempDir(), CacheDir: t.TempDir(), SnapshotAfter: 1, Network: m.Provider()})
	if !d.SandboxesListen() {
		t.Fatal("SandboxesListen() = false with a network provider")
	}
	direct := inet.String()

	t.Run("NONE", func(t *testing.T) {
		sb := startEgress(t, d, e, sandbox.NetworkPolicy{Mode: sandbox.NetworkNone})
		checkOTLP(t, sb)
		for _, r := range probeConnect(t, sb, []string{direct, "10.0.2.2:4318", "10.0.2.3:53"}, "") {
			if r.OK {
				t.Errorf("a NONE sandbox connected to %s (received %q)", r.Addr, r.Received)
			}
		}
	})
	t.Run("PUBLIC", func(t *testing.T) {
		sb := startEgress(t, d, e, sandbox.NetworkPolicy{Mode: sandbox.NetworkPublic})
		checkOTLP(t, sb)
		for _, r := range probeConnect(t, sb, []string{"internet.test:80", direct}, "") {
			if !r.OK || r.Received != banner {
				t.Errorf("a PUBLIC sandbox's connection to %s: %s %s, received %q; want the internet host's banner", r.Addr, r.Errno, r.Error, r.Received)
			}
		}
		if dns.Queries("udp") == 0 {
			t.Error("the test's resolver got no query: the name was not resolved through the session's DNS forwarder")
		}
	})
	t.Run("ALLOWLIST", func(t *testing.T) {
		sb := startEgress(t, d, e, sandbox.NetworkPolicy{Mode: sandbox.NetworkAllowlist, AllowedDomains: []string{"allowed.test"}})
		checkOTLP(t, sb)
		proxy := proxyAddr(t, sb)
		rs := probeConnect(t, sb, []string{proxy, proxy, direct}, "",
			"CONNECT allowed.test:80 HTTP/1.1\r\nHost: allowed.test:80\r\n\r\n",
			"CONNECT unlisted.test:80 HTTP/1.1\r\nHost: unlisted.test:80\r\n\r\n", "")
		if r := rs[0]; !r.OK || !strings.HasPrefix(r.Received, "HTTP/1.1 200") || !strings.HasSuffix(r.Received, banner) {
			t.Errorf("CONNECT allowed.test through the proxy at %s: %s %s, received %q; want 200 and the host's banner", r.Addr, r.Errno, r.Error, r.Received)
		}
		if r := rs[1]; !r.OK || !strings.HasPrefix(r.Received, "HTTP/1.1 403") {
			t.Errorf("CONNECT unlisted.test through the proxy at %s: %s %s, received %q; want 403", r.Addr, r.Errno, r.Error, r.Received)
		}
		if r := rs[2]; r.OK {
			t.Errorf("an ALLOWLIST sandbox connected to %s directly (received %q)", r.Addr, r.Received)
		}
	})
}

// startEgress starts the test agent with policy p and the agent OTLP endpoint's
// variables, and waits until it answers.
func startEgress(t *testing.T, d *microvm.Driver, e env, p sandbox.NetworkPolicy) sandbox.Sandbox {
	t.Helper()
	spec := e.spec(t, "")
	spec.ID = "egress-" + strings.ToLower(string(p.Mode))
	spec.Network = p
	spec.Env = append(spec.Env, "OTEL_EXPORTER_OTLP_ENDPOINT=http://"+otlpAddr, "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf")
	sb, err := d.Start(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sb.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	waitPing(t, sb)
	return sb
}

// checkOTLP listens on the OTLP endpoint's address in sb, as the server does, and has the
// agent export spans there.
func checkOTLP(t *testing.T, sb sandbox.Sandbox) {
	t.Helper()
	ln, err := sb.(sandbox.Listener).Listen(t.Context(), "tcp", otlpAddr)
	if err != nil {
		t.Fatal(err)
	}
	var posts atomic.Int64
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/v1/traces" {
			posts.Add(1)
		}
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-protobuf")
	})}
	var wg sync.WaitGroup
	wg.Go(func() { _ = srv.Serve(ln) })
	defer func() {
		_ = srv.Close()
		wg.Wait()
	}()
	var out struct {
		Endpoint    string `json:"endpoint"`
		ExportError string `json:"export_error"`
	}
	invoke(t, sb, map[string]any{"op": "trace"}, &out)
	if out.ExportError != "" || posts.Load() == 0 {
		t.Errorf("the agent's OTLP export to %s: error %q, %d requests received; want none and at least one", out.Endpoint, out.ExportError, posts.Load())
	}
}

// proxyAddr is the proxy the agent's HTTPS_PROXY names.
func proxyAddr(t *testing.T, sb sandbox.Sandbox) string {
	t.Helper()
	var out struct {
		Env []string `json:"env"`
	}
	invoke(t, sb, map[string]any{"op": "env"}, &out)
	for _, kv := range out.Env {
		if v, ok := strings.CutPrefix(kv, "HTTPS_PROXY=http://"); ok {
			return strings.TrimSuffix(v, "/")
		}
	}
	t.Fatalf("the agent's environment has no HTTPS_PROXY: %q", out.Env)
	return ""
}

// connectResult is one outcome of the test agent's connect probe.
type connectResult struct {
	Addr     string `json:"addr"`
	OK       bool   `json:"ok"`
	Error    string `json:"error"`
	Errno    string `json:"errno"`
	Received string `json:"received"`
}

// probeConnect has the agent dial addrs, each in a probe of its own, sending sends[i] (or
// send) on the connection.
func probeConnect(t *testing.T, sb sandbox.Sandbox, addrs []string, send string, sends ...string) []connectResult {
	t.Helper()
	out := make([]connectResult, len(addrs))
	for i, addr := range addrs {
		s := send
		if i < len(sends) {
			s = sends[i]
		}
		var r struct {
			Results []connectResult `json:"results"`
		}
		invoke(t, sb, map[string]any{"op": "probe", "probe": "connect", "addrs": []string{addr}, "send": s, "timeout_ms": 3000}, &r)
		if len(r.Results) != 1 {
			t.Fatalf("connect probe answered %d results for one address", len(r.Results))
		}
		out[i] = r.Results[0]
	}
	return out
}
