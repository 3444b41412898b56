package sandboxtest

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// DNSServer is an upstream resolver for tests on the host's loopback, UDP and TCP on one
// port. It answers A questions from the names it was given, or with its fallback address
// for any other name when that is valid, and counts the queries of each protocol.
type DNSServer struct {
	// Addr is where it listens, for both protocols.
	Addr netip.AddrPort

	names    map[string]netip.Addr // lowercase, fully qualified ("internet.test.")
	fallback netip.Addr
	udp, tcp atomic.Int64
}

// StartDNS starts a DNSServer that runs until the test ends.
func StartDNS(t testing.TB, names map[string]netip.Addr, fallback netip.Addr) *DNSServer {
	t.Helper()
	var (
		pc  net.PacketConn
		ln  net.Listener
		err error
	)
	for range 20 { // find a port free for both protocols
		if pc, err = net.ListenPacket("udp4", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		if ln, err = net.Listen("tcp4", pc.LocalAddr().String()); err == nil {
			break
		}
		_ = pc.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	d := &DNSServer{Addr: netip.MustParseAddrPort(pc.LocalAddr().String()), names: names, fallback: fallback}
	var wg sync.WaitGroup
	wg.Go(func() { d.serveUDP(pc) })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { d.serveTCP(c) })
		}
	})
	t.Cleanup(func() {
		_ = pc.Close()
		_ = ln.Close()
		wg.Wait()
	})
	return d
}

// Queries is how many queries arrived over network ("udp" or "tcp").
func (d *DNSServer) Queries(network string) int64 {
	if network == "tcp" {
		return d.tcp.Load()
	}
	return d.udp.Load()
}

func (d *DNSServer) serveUDP(pc net.PacketConn) {
	buf := make([]byte, 65535)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		d.udp.Add(1)
		if resp, err := DNSAnswer(buf[:n], d.names, d.fallback); err == nil {
			_, _ = pc.WriteTo(resp, from)
		}
	}
}

// serveTCP answers length-prefixed queries on c until it closes.
func (d *DNSServer) serveTCP(c net.Conn) {
	defer func() { _ = c.Close() }()
	for {
		var l [2]byte
		if _, err := io.ReadFull(c, l[:]); err != nil {
			return
		}
		q := make([]byte, binary.BigEndian.Uint16(l[:]))
		if _, err := io.ReadFull(c, q); err != nil {
			return
		}
		d.tcp.Add(1)
		resp, err := DNSAnswer(q, d.names, d.fallback)
		if err != nil {
			return
		}
		if _, err := c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(resp))), resp...)); err != nil {
			return
		}
	}
}

// DNSAnswer answers query q: for each A question, an A record from names (keys lowercase
// and fully qualified: "internet.test."), else fallback when it is valid; nothing for
// other questions.
func DNSAnswer(q []byte, names map[string]netip.Addr, fallback netip.Addr) ([]byte, error) {
	var p dnsmessage.Parser
	h, err := p.Start(q)
	if err != nil {
		return nil, err
	}
	qs, err := p.AllQuestions()
	if err != nil || len(qs) == 0 {
		return nil, errors.Join(errors.New("no question"), err)
	}
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired})
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	for _, qq := range qs {
		if err := b.Question(qq); err != nil {
			return nil, err
		}
	}
	if err := b.StartAnswers(); err != nil {
		return nil, err
	}
	for _, qq := range qs {
		a, ok := names[strings.ToLower(qq.Name.String())]
		if !ok {
			a, ok = fallback, fallback.IsValid()
		}
		if ok && qq.Type == dnsmessage.TypeA {
			rh := dnsmessage.ResourceHeader{Name: qq.Name, Class: dnsmessage.ClassINET, TTL: 60}
			if err := b.AResource(rh, dnsmessage.AResource{A: a.As4()}); err != nil {
				return nil, err
			}
		}
	}
	return b.Finish()
}
