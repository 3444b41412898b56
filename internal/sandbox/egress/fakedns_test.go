package egress_test

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// fakeDNSAnswer is the A record the fake resolver gives every name.
var fakeDNSAnswer = netip.MustParseAddr("198.51.100.10")

// fakeDNS is an upstream resolver on the host's loopback, UDP and TCP on one port, that
// answers every A question with fakeDNSAnswer and counts queries.
type fakeDNS struct {
	addr     netip.AddrPort
	udp, tcp atomic.Int64
}

func (f *fakeDNS) queries(network string) int64 {
	if network == "tcp" {
		return f.tcp.Load()
	}
	return f.udp.Load()
}

func newFakeDNS(t testing.TB) *fakeDNS {
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
	f := &fakeDNS{addr: netip.MustParseAddrPort(pc.LocalAddr().String())}
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]byte, 65535)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			f.udp.Add(1)
			if resp, err := dnsAnswer(buf[:n]); err == nil {
				_, _ = pc.WriteTo(resp, from)
			}
		}
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
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
					f.tcp.Add(1)
					resp, err := dnsAnswer(q)
					if err != nil {
						return
					}
					out := binary.BigEndian.AppendUint16(nil, uint16(len(resp)))
					if _, err := c.Write(append(out, resp...)); err != nil {
						return
					}
				}
			})
		}
	})
	t.Cleanup(func() {
		_ = pc.Close()
		_ = ln.Close()
		wg.Wait()
	})
	return f
}

// dnsAnswer answers query q: fakeDNSAnswer for A questions, nothing for others.
func dnsAnswer(q []byte) ([]byte, error) {
	var p dnsmessage.Parser
	h, err := p.Start(q)
	if err != nil {
		return nil, err
	}
	qs, err := p.AllQuestions()
	if err != nil {
		return nil, err
	}
	if len(qs) == 0 {
		return nil, errors.New("no question")
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
		if qq.Type == dnsmessage.TypeA {
			rh := dnsmessage.ResourceHeader{Name: qq.Name, Class: dnsmessage.ClassINET, TTL: 60}
			if err := b.AResource(rh, dnsmessage.AResource{A: fakeDNSAnswer.As4()}); err != nil {
				return nil, err
			}
		}
	}
	return b.Finish()
}
