package egress

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/netutil"
)

// Limits of the allowlist proxy, per sandbox.
const (
	// proxyMaxConns bounds the sandbox's connections to the proxy (each tunnel also holds
	// one upstream connection); further connections wait to be accepted.
	proxyMaxConns = 256

	proxyDialTimeout   = 10 * time.Second
	proxyHeaderTimeout = 30 * time.Second
	proxyIdleTimeout   = 90 * time.Second
)

// deniedError is a request the proxy refuses by policy; it becomes a 403.
type deniedError struct{ msg string }

func (e *deniedError) Error() string { return e.msg }

// lookupFunc resolves a host name to IPv4 addresses.
type lookupFunc func(ctx context.Context, host string) ([]netip.Addr, error)

// proxy is the HTTP(S) forward proxy of one ALLOWLIST sandbox. It serves CONNECT
// (tunnels, used for HTTPS) and absolute-form HTTP requests ("GET http://host/path"),
// only to hosts on the allowlist. It resolves names itself, drops every resolved address
// that addrGuard forbids, and dials the checked addresses only, so a name that later
// resolves elsewhere (DNS rebinding) cannot reach a forbidden address. It dials from
// Berth's own namespace.
type proxy struct {
	allow  *Allowlist
	lookup lookupFunc
	guard  addrGuard
	log    *slog.Logger
	srv    *http.Server
	rp     *httputil.ReverseProxy
	tr     *http.Transport

	mu      sync.Mutex
	closed  bool
	tunnels map[net.Conn]struct{}
	wg      sync.WaitGroup
}

func newProxy(allow *Allowlist, lookup lookupFunc, guard addrGuard, log *slog.Logger) *proxy {
	p := &proxy{allow: allow, lookup: lookup, guard: guard, log: log, tunnels: map[net.Conn]struct{}{}}
	p.tr = &http.Transport{
		Proxy:                 nil, // never chain to Berth's own proxy settings
		DialContext:           p.dial,
		ForceAttemptHTTP2:     false,
		MaxIdleConns:          16,
		IdleConnTimeout:       proxyIdleTimeout,
		ResponseHeaderTimeout: 0, // agents may stream; the client decides how long to wait
		ExpectContinueTimeout: time.Second,
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.Out.Host = pr.In.Host },
		Transport: p.tr,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			p.fail(w, r, err)
		},
	}
	p.srv = &http.Server{
		Handler:           p,
		ReadHeaderTimeout: proxyHeaderTimeout,
		IdleTimeout:       proxyIdleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	return p
}

// serve runs the proxy on ln until close.
func (p *proxy) serve(ln net.Listener) {
	ln = netutil.LimitListener(ln, proxyMaxConns)
	p.wg.Go(func() {
		if err := p.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			p.log.Warn("egress proxy stopped", "err", err)
		}
	})
}

// close stops the proxy, cuts open tunnels and waits for them.
func (p *proxy) close() error {
	p.mu.Lock()
	p.closed = true
	for c := range p.tunnels {
		_ = c.Close()
	}
	p.mu.Unlock()
	err := p.srv.Close()
	p.tr.CloseIdleConnections()
	p.wg.Wait()
	if err != nil {
		return fmt.Errorf("stop egress proxy: %w", err)
	}
	return nil
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodConnect {
		p.connect(w, r)
		return
	}
	if r.URL.Host == "" || (r.URL.Scheme != "http" && r.URL.Scheme != "https") {
		http.Error(w, "berth egress proxy: only proxy requests (CONNECT host:port, or an absolute http:// URL) are served here\n", http.StatusBadRequest)
		return
	}
	if err := p.check(r.URL.Hostname()); err != nil {
		p.fail(w, r, err)
		return
	}
	p.rp.ServeHTTP(w, r)
}

// connect opens a tunnel to r.Host (host:port) after the policy checks.
func (p *proxy) connect(w http.ResponseWriter, r *http.Request) {
	host, port, err := net.SplitHostPort(r.Host)
	if err != nil || port == "" {
		http.Error(w, "berth egress proxy: CONNECT needs host:port\n", http.StatusBadRequest)
		return
	}
	if err := p.check(host); err != nil {
		p.fail(w, r, err)
		return
	}
	up, err := p.dial(r.Context(), "tcp", net.JoinHostPort(host, port))
	if err != nil {
		p.fail(w, r, err)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		_ = up.Close()
		http.Error(w, "berth egress proxy: cannot tunnel on this connection\n", http.StatusInternalServerError)
		return
	}
	c, brw, err := hj.Hijack()
	if err != nil {
		_ = up.Close()
		p.log.Warn("egress proxy: hijack", "err", err)
		return
	}
	if !p.trackTunnel(c, up) {
		return
	}
	defer p.untrackTunnel(c, up)
	if _, err := io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Bytes the client sent after its CONNECT may sit in brw's buffer already.
		_, _ = io.Copy(up, brw.Reader)
		closeWrite(up)
	}()
	_, _ = io.Copy(c, up)
	closeWrite(c)
	<-done
}

func (p *proxy) trackTunnel(c, up net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		_ = c.Close()
		_ = up.Close()
		return false
	}
	p.tunnels[c] = struct{}{}
	p.tunnels[up] = struct{}{}
	p.wg.Add(1)
	return true
}

func (p *proxy) untrackTunnel(c, up net.Conn) {
	p.mu.Lock()
	delete(p.tunnels, c)
	delete(p.tunnels, up)
	p.mu.Unlock()
	_ = c.Close()
	_ = up.Close()
	p.wg.Done()
}

func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
		return
	}
	_ = c.Close()
}

// check applies the allowlist to a request's host.
func (p *proxy) check(host string) error {
	if _, err := netip.ParseAddr(host); err == nil {
		return &deniedError{fmt.Sprintf("%q is an IP address; this sandbox may only reach the domains on its egress allowlist", host)}
	}
	if !p.allow.Allows(host) {
		return &deniedError{fmt.Sprintf("host %q is not on this runtime's egress allowlist", host)}
	}
	return nil
}

// dial connects to addr (host:port) through the policy: allowlisted name, resolved here,
// only to permitted addresses, which are the ones dialed.
func (p *proxy) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if err := p.check(host); err != nil {
		return nil, err
	}
	ips, err := p.lookup(ctx, host)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", host, err)
	}
	var ok []netip.Addr
	for _, ip := range ips {
		good, err := p.guard.allowed(ip)
		if err != nil {
			return nil, fmt.Errorf("check addresses of %s: %w", host, err)
		}
		if good {
			ok = append(ok, ip)
		}
	}
	if len(ok) == 0 {
		return nil, &deniedError{fmt.Sprintf("host %q resolves only to addresses sandboxes may not reach "+
			"(private, loopback, link-local, multicast or reserved ranges, this host, or IPv6): %v", host, ips)}
	}
	d := net.Dialer{Timeout: proxyDialTimeout}
	var errs []error
	for _, ip := range ok {
		c, err := d.DialContext(ctx, network, net.JoinHostPort(ip.String(), port))
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("connect to %s: %w", host, errors.Join(errs...))
}

// fail answers a refused or failed request: 403 for policy, 502 otherwise. The body says
// why in one line, for the agent's logs.
func (p *proxy) fail(w http.ResponseWriter, r *http.Request, err error) {
	if de, ok := errors.AsType[*deniedError](err); ok {
		p.log.Info("egress proxy: denied", "method", r.Method, "host", r.Host, "reason", de.msg)
		http.Error(w, "berth egress proxy: forbidden: "+de.msg+"\n", http.StatusForbidden)
		return
	}
	p.log.Info("egress proxy: upstream failed", "method", r.Method, "host", r.Host, "err", err)
	msg := strings.ReplaceAll(err.Error(), "\n", "; ")
	http.Error(w, "berth egress proxy: bad gateway: "+msg+"\n", http.StatusBadGateway)
}

// proxyEnv is the environment that points a sandbox's HTTP clients at the proxy.
func proxyEnv(port uint16) []string {
	u := fmt.Sprintf("http://127.0.0.1:%d", port)
	const noProxy = "localhost,127.0.0.1,::1"
	return []string{
		"HTTP_PROXY=" + u, "HTTPS_PROXY=" + u, "http_proxy=" + u, "https_proxy=" + u,
		"NO_PROXY=" + noProxy, "no_proxy=" + noProxy,
	}
}
