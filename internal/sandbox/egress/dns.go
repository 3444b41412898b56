package egress

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Limits of the DNS forwarder, per sandbox.
const (
	dnsMaxUDPQueries  = 64               // queries in flight over UDP; more are dropped (clients retry)
	dnsMaxTCPConns    = 16               // TCP connections served at once; more wait in the backlog
	dnsUpstreamWait   = 2 * time.Second  // per upstream, per query
	dnsTCPIdleTimeout = 10 * time.Second // a client TCP connection with no new query is closed
	dnsHeaderLen      = 12
)

// dnsForwarder relays DNS queries that a sandbox sends to its own 127.0.0.1:53 to the
// host's resolvers. It listens on sockets created inside the sandbox's namespace and
// dials the upstreams from Berth's own namespace, so the sandbox needs no route to them.
// It parses nothing but the 2-byte query ID (a reply must carry the query's ID) and the
// TCP length prefix: it is a relay, not a resolver, and caches nothing.
type dnsForwarder struct {
	upstreams []netip.AddrPort
	log       *slog.Logger
	pc        net.PacketConn
	ln        net.Listener

	ctx    context.Context
	cancel context.CancelFunc
	udpSem chan struct{}
	tcpSem chan struct{}
	wg     sync.WaitGroup

	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

// startDNS serves pc (UDP) and ln (TCP) until Close, which also closes them.
func startDNS(pc net.PacketConn, ln net.Listener, upstreams []netip.AddrPort, log *slog.Logger) *dnsForwarder {
	ctx, cancel := context.WithCancel(context.Background())
	f := &dnsForwarder{
		upstreams: upstreams, log: log, pc: pc, ln: ln,
		ctx: ctx, cancel: cancel,
		udpSem: make(chan struct{}, dnsMaxUDPQueries),
		tcpSem: make(chan struct{}, dnsMaxTCPConns),
		conns:  map[net.Conn]struct{}{},
	}
	f.wg.Go(f.serveUDP)
	f.wg.Go(f.serveTCP)
	return f
}

// Close stops serving, aborts queries in flight and waits for them.
func (f *dnsForwarder) Close() error {
	f.cancel()
	err := errors.Join(f.pc.Close(), f.ln.Close())
	f.mu.Lock()
	for c := range f.conns {
		_ = c.Close()
	}
	f.mu.Unlock()
	f.wg.Wait()
	if err != nil {
		return fmt.Errorf("stop dns forwarder: %w", err)
	}
	return nil
}

func (f *dnsForwarder) serveUDP() {
	buf := make([]byte, 65535)
	for {
		n, from, err := f.pc.ReadFrom(buf)
		if err != nil {
			if f.ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
				f.log.Warn("dns forwarder: udp read", "err", err)
			}
			return
		}
		if n < dnsHeaderLen {
			continue
		}
		select {
		case f.udpSem <- struct{}{}:
		default:
			continue // overloaded: drop, the client retries
		}
		q := append([]byte(nil), buf[:n]...)
		f.wg.Go(func() {
			defer func() { <-f.udpSem }()
			resp, err := f.exchange(q, f.exchangeUDP)
			if err != nil {
				f.log.Debug("dns forwarder: no answer", "err", err)
				return
			}
			_, _ = f.pc.WriteTo(resp, from)
		})
	}
}

func (f *dnsForwarder) serveTCP() {
	for {
		c, err := f.ln.Accept()
		if err != nil {
			if f.ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
				f.log.Warn("dns forwarder: tcp accept", "err", err)
			}
			return
		}
		select {
		case f.tcpSem <- struct{}{}:
		case <-f.ctx.Done():
			_ = c.Close()
			return
		}
		if !f.track(c) {
			<-f.tcpSem
			return
		}
		f.wg.Go(func() {
			defer func() { <-f.tcpSem }()
			defer f.untrack(c)
			f.serveConn(c)
		})
	}
}

func (f *dnsForwarder) track(c net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ctx.Err() != nil {
		_ = c.Close()
		return false
	}
	f.conns[c] = struct{}{}
	return true
}

func (f *dnsForwarder) untrack(c net.Conn) {
	f.mu.Lock()
	delete(f.conns, c)
	f.mu.Unlock()
	_ = c.Close()
}

// serveConn answers length-prefixed queries on one client TCP connection, in order.
func (f *dnsForwarder) serveConn(c net.Conn) {
	for {
		_ = c.SetReadDeadline(time.Now().Add(dnsTCPIdleTimeout))
		q, err := readTCPMsg(c)
		if err != nil {
			return
		}
		if len(q) < dnsHeaderLen {
			return
		}
		resp, err := f.exchange(q, f.exchangeTCP)
		if err != nil {
			f.log.Debug("dns forwarder: no answer", "err", err)
			return // closing tells the client to try again
		}
		_ = c.SetWriteDeadline(time.Now().Add(dnsUpstreamWait))
		if err := writeTCPMsg(c, resp); err != nil {
			return
		}
	}
}

// exchange asks each upstream in turn until one answers.
func (f *dnsForwarder) exchange(q []byte, one func(context.Context, netip.AddrPort, []byte) ([]byte, error)) ([]byte, error) {
	var errs []error
	for _, up := range f.upstreams {
		ctx, cancel := context.WithTimeout(f.ctx, dnsUpstreamWait)
		resp, err := one(ctx, up, q)
		cancel()
		if err == nil {
			return resp, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", up, err))
		if f.ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

func (f *dnsForwarder) exchangeUDP(ctx context.Context, up netip.AddrPort, q []byte) ([]byte, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "udp", up.String())
	if err != nil {
		return nil, err
	}
	defer func() { _ = c.Close() }()
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Now()) })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	if _, err := c.Write(q); err != nil {
		return nil, err
	}
	buf := make([]byte, 65535)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return nil, err
		}
		if n >= dnsHeaderLen && buf[0] == q[0] && buf[1] == q[1] {
			return buf[:n], nil
		}
		// A stray datagram with another ID: keep waiting for ours.
	}
}

func (f *dnsForwarder) exchangeTCP(ctx context.Context, up netip.AddrPort, q []byte) ([]byte, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", up.String())
	if err != nil {
		return nil, err
	}
	defer func() { _ = c.Close() }()
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Now()) })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	if err := writeTCPMsg(c, q); err != nil {
		return nil, err
	}
	resp, err := readTCPMsg(c)
	if err != nil {
		return nil, err
	}
	if len(resp) < dnsHeaderLen || resp[0] != q[0] || resp[1] != q[1] {
		return nil, errors.New("reply does not match the query")
	}
	return resp, nil
}

// readTCPMsg reads one DNS message with its 2-byte length prefix (RFC 1035 §4.2.2).
func readTCPMsg(r io.Reader) ([]byte, error) {
	var l [2]byte
	if _, err := io.ReadFull(r, l[:]); err != nil {
		return nil, err
	}
	msg := make([]byte, binary.BigEndian.Uint16(l[:]))
	if _, err := io.ReadFull(r, msg); err != nil {
		return nil, err
	}
	return msg, nil
}

func writeTCPMsg(w io.Writer, msg []byte) error {
	if len(msg) > 65535 {
		return errors.New("dns message too long")
	}
	b := make([]byte, 2+len(msg))
	binary.BigEndian.PutUint16(b, uint16(len(msg)))
	copy(b[2:], msg)
	_, err := w.Write(b)
	return err
}
