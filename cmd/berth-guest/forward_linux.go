package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"syscall"
	"time"

	"berth.dev/berth/internal/sandbox/microvm/guestapi"
)

// Forwarded ports: berth-guest listens on a loopback port in the agent's network
// namespace and relays each TCP connection, and for UDP each client's datagrams, to the
// same port of the user-mode network's gateway, which the host serves from the session's
// network namespace (guestapi.GatewayAddr). The relaying sockets are berth-guest's own, in
// the guest's namespace: an agent in its loopback-only namespace reaches only the
// forwarded ports.

const (
	// forwardDialTimeout bounds a connection to the gateway.
	forwardDialTimeout = 10 * time.Second
	// udpIdle ends a UDP client's relay after this long without a datagram either way.
	udpIdle = 30 * time.Second
	// maxUDPClients bounds the UDP clients relayed at once per port; datagrams of more
	// are dropped (the client retries).
	maxUDPClients = 64
)

// forwardLater serves one more forward once the agent runs (TypeForward).
func (g *guest) forwardLater(f *guestapi.Forward) error {
	if f == nil {
		return errors.New("forward without an address")
	}
	g.mu.Lock()
	ns := g.ns
	g.mu.Unlock()
	if ns == nil {
		return errors.New("forward before the agent started")
	}
	return g.forward(ns, *f)
}

// forward listens on f.Addr in ns and relays to the gateway, until the VM ends.
func (g *guest) forward(ns *agentNetns, f guestapi.Forward) error {
	ap, err := netip.ParseAddrPort(f.Addr)
	if err != nil || !ap.Addr().Is4() || ap.Port() == 0 {
		return fmt.Errorf("forward %q: want an IPv4 address and port", f.Addr)
	}
	upstream := net.JoinHostPort(guestapi.GatewayAddr, strconv.Itoa(int(ap.Port())))
	ln, err := ns.listen(f.Addr)
	if err != nil {
		return fmt.Errorf("forward %s: %w", f.Addr, err)
	}
	var pc net.PacketConn
	if f.UDP {
		if pc, err = ns.listenPacket(f.Addr); err != nil {
			_ = ln.Close()
			return fmt.Errorf("forward %s/udp: %w", f.Addr, err)
		}
	}
	go g.forwardTCP(ln, upstream)
	if pc != nil {
		go g.forwardUDP(pc, upstream)
	}
	return nil
}

// forwardTCP relays every connection ln accepts to upstream.
func (g *guest) forwardTCP(ln net.Listener, upstream string) {
	for {
		c, err := ln.Accept()
		if err != nil {
			g.log.Error("forward accept", "addr", ln.Addr(), "err", err)
			return
		}
		go func() {
			defer func() { _ = c.Close() }()
			u, err := net.DialTimeout("tcp4", upstream, forwardDialTimeout)
			if err != nil {
				return // the client sees its connection closed
			}
			defer func() { _ = u.Close() }()
			splice(c.(*net.TCPConn), u.(*net.TCPConn))
		}()
	}
}

// splice copies both ways between a and b until both directions are done, passing on
// half-closes.
func splice(a, b *net.TCPConn) {
	var wg sync.WaitGroup
	wg.Go(func() {
		_, _ = io.Copy(b, a)
		_ = b.CloseWrite()
	})
	_, _ = io.Copy(a, b)
	_ = a.CloseWrite()
	wg.Wait()
}

// forwardUDP relays the datagrams pc receives to upstream, each client from a socket of
// its own, and the answers back.
func (g *guest) forwardUDP(pc net.PacketConn, upstream string) {
	var (
		mu      sync.Mutex
		clients = map[netip.AddrPort]net.Conn{}
	)
	buf := make([]byte, 65535)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			g.log.Error("forward receive", "addr", pc.LocalAddr(), "err", err)
			return
		}
		client := from.(*net.UDPAddr).AddrPort()
		mu.Lock()
		u, ok := clients[client]
		if !ok && len(clients) < maxUDPClients {
			if u, err = net.Dial("udp4", upstream); err == nil {
				clients[client] = u
				ok = true
				go func() {
					answerUDP(pc, u, from)
					mu.Lock()
					delete(clients, client)
					mu.Unlock()
					_ = u.Close()
				}()
			}
		}
		mu.Unlock()
		if ok {
			_ = u.SetDeadline(time.Now().Add(udpIdle))
			_, _ = u.Write(buf[:n])
		}
	}
}

// answerUDP sends what u receives to client through pc until u is idle for udpIdle.
func answerUDP(pc net.PacketConn, u net.Conn, client net.Addr) {
	buf := make([]byte, 65535)
	for {
		n, err := u.Read(buf)
		if errors.Is(err, syscall.ECONNREFUSED) {
			continue // an ICMP error for an earlier datagram; later ones may be answered
		}
		if err != nil {
			return
		}
		_ = u.SetDeadline(time.Now().Add(udpIdle))
		_, _ = pc.WriteTo(buf[:n], client)
	}
}
