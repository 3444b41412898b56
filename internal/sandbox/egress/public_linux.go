package egress

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"berth.dev/berth/internal/sandbox/netns"
)

// sandboxIface is the name of the veth end inside a PUBLIC namespace.
const sandboxIface = "eth0"

// publicNS is one PUBLIC namespace: a veth pair (host side named ifacePrefix+block, with
// the block's first address; eth0 inside, with its second address and a default route
// through the first), and a DNS forwarder on the namespace's 127.0.0.1:53.
type publicNS struct {
	ns    *netns.NS
	slot  int
	host  string     // host-side interface name
	addr  netip.Addr // the sandbox's eth0 address
	gw    netip.Addr // the host side's address
	dns   *dnsForwarder
	owner *Manager
}

// newPublic builds a PUBLIC namespace. On error nothing is left behind.
func (m *Manager) newPublic() (_ *publicNS, err error) {
	slot, err := m.slots.acquire()
	if err != nil {
		return nil, err
	}
	hostP, sbP := m.slots.addrs(slot)
	p := &publicNS{slot: slot, host: m.cfg.ifacePrefix() + strconv.FormatInt(int64(slot), 16),
		addr: sbP.Addr(), gw: hostP.Addr(), owner: m}
	defer func() {
		if err != nil {
			err = errors.Join(err, p.destroy())
		}
	}()
	// A reply still tracked for an earlier holder of this address must not reach the new one.
	if err := m.forgetConntrack(p.addr); err != nil {
		return nil, err
	}
	if p.ns, err = netns.New(); err != nil {
		return nil, err
	}
	veth := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: p.host},
		PeerName:      sandboxIface,
		PeerNamespace: netlink.NsFd(p.ns.Fd()),
	}
	if err := m.nl.LinkAdd(veth); err != nil {
		return nil, fmt.Errorf("create veth %s: %w", p.host, err)
	}
	if err := configureLink(m.nl, p.host, hostP, netip.Addr{}); err != nil {
		return nil, err
	}
	if err := p.ns.Do(func() error {
		h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
		if err != nil {
			return fmt.Errorf("netlink in the sandbox namespace: %w", err)
		}
		defer h.Close()
		return configureLink(h, sandboxIface, sbP, hostP.Addr())
	}); err != nil {
		return nil, err
	}
	udp, err := p.ns.ListenPacket("udp4", "127.0.0.1:53")
	if err != nil {
		return nil, fmt.Errorf("dns forwarder: %w", err)
	}
	tcp, err := p.ns.Listen("tcp4", "127.0.0.1:53")
	if err != nil {
		_ = udp.Close()
		return nil, fmt.Errorf("dns forwarder: %w", err)
	}
	p.dns = startDNS(udp, tcp, m.resolvers, m.log.With("veth", p.host))
	return p, nil
}

// configureLink gives link name the address addr, sets it up, and, when gw is valid,
// routes everything through gw.
func configureLink(h *netlink.Handle, name string, addr netip.Prefix, gw netip.Addr) error {
	l, err := h.LinkByName(name)
	if err != nil {
		return fmt.Errorf("find %s: %w", name, err)
	}
	ipn := &net.IPNet{IP: addr.Addr().AsSlice(), Mask: net.CIDRMask(addr.Bits(), 32)}
	if err := h.AddrAdd(l, &netlink.Addr{IPNet: ipn}); err != nil {
		return fmt.Errorf("address %s on %s: %w", addr, name, err)
	}
	if err := h.LinkSetUp(l); err != nil {
		return fmt.Errorf("set %s up: %w", name, err)
	}
	if gw.IsValid() {
		r := &netlink.Route{LinkIndex: l.Attrs().Index, Gw: gw.AsSlice(),
			Dst: &net.IPNet{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)}}
		if err := h.RouteAdd(r); err != nil {
			return fmt.Errorf("default route via %s: %w", gw, err)
		}
	}
	return nil
}

// destroy tears the namespace down: DNS forwarder, veth pair (deleting one end deletes
// both), namespace descriptor, address block.
func (p *publicNS) destroy() error {
	var errs []error
	if p.dns != nil {
		errs = append(errs, p.dns.Close())
	}
	if err := p.owner.deleteLink(p.host); err != nil {
		errs = append(errs, err)
	}
	if p.ns != nil {
		errs = append(errs, p.ns.Close())
	}
	p.owner.slots.release(p.slot)
	return errors.Join(errs...)
}

// deleteLink removes a host-side veth; a missing one is not an error.
func (m *Manager) deleteLink(name string) error {
	l, err := m.nl.LinkByName(name)
	if err != nil {
		if _, ok := errors.AsType[netlink.LinkNotFoundError](err); ok {
			return nil
		}
		return fmt.Errorf("find veth %s: %w", name, err)
	}
	if err := m.nl.LinkDel(l); err != nil && !errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("delete veth %s: %w", name, err)
	}
	return nil
}

// deleteStaleLinks removes host-side veths of this Manager's prefix that a crashed
// process left behind, cutting off whatever still runs in their namespaces.
func (m *Manager) deleteStaleLinks() error {
	links, err := m.nl.LinkList()
	if err != nil {
		return fmt.Errorf("list links: %w", err)
	}
	var errs []error
	prefix := m.cfg.ifacePrefix()
	for _, l := range links {
		name := l.Attrs().Name
		rest, ok := strings.CutPrefix(name, prefix)
		if !ok || rest == "" || strings.Trim(rest, "0123456789abcdef") != "" {
			continue
		}
		m.log.Info("egress: deleting a stale sandbox veth", "veth", name)
		if err := m.nl.LinkDel(l); err != nil && !errors.Is(err, unix.ENODEV) {
			errs = append(errs, fmt.Errorf("delete stale veth %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// forgetConntrack drops connection-tracking entries that originate from addr.
func (m *Manager) forgetConntrack(addr netip.Addr) error {
	f := &netlink.ConntrackFilter{}
	if err := f.AddIP(netlink.ConntrackOrigSrcIP, addr.AsSlice()); err != nil {
		return fmt.Errorf("conntrack filter: %w", err)
	}
	if _, err := m.nl.ConntrackDeleteFilters(netlink.ConntrackTable, unix.AF_INET, f); err != nil {
		return fmt.Errorf("forget connections of %s: %w", addr, err)
	}
	return nil
}
