package egress

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"berth.dev/berth/internal/errdefs"
)

// Defaults for Config.
const (
	DefaultPoolSize  = 4
	DefaultProxyPort = 3128
	DefaultTable     = "berth_egress"
)

// DefaultSubnet is the range PUBLIC namespaces are addressed from, one /30 each.
var DefaultSubnet = netip.MustParsePrefix("10.231.0.0/16")

// ifaceBase starts the name of every host-side veth of every Manager; the nftables rules
// match it as a prefix. Names are ifaceBase + Config.Tag + "-" + the block number in hex.
const ifaceBase = "brth"

// Config configures a Manager. The zero value is usable: every field has a default.
type Config struct {
	// PoolSize is how many ready PUBLIC namespaces are kept; 0 means DefaultPoolSize and a
	// negative value disables the pool (every PUBLIC sandbox waits for its own set-up).
	PoolSize int
	// Subnet is the IPv4 range of the sandboxes' veth pairs, one /30 per PUBLIC namespace:
	// 2^(30-bits) namespaces at most. Default DefaultSubnet. It must not be used by anything
	// else on the host; it is forbidden to sandboxes like every private range.
	Subnet netip.Prefix
	// Tag tells several Managers on one host apart (tests): it names the nftables table
	// (DefaultTable + "_" + Tag) and the veths. Up to 4 lowercase letters or digits.
	Tag string
	// Blocked adds IPv4 ranges that sandboxes must not reach (for example a LAN that uses
	// public addresses) to the built-in list (ForbiddenPrefixes).
	Blocked []netip.Prefix
	// Resolvers are the upstream DNS servers that the DNS forwarder of each PUBLIC sandbox
	// relays to; default: the nameservers of ResolvConf. They are dialed from Berth's own
	// namespace, so they may be private or loopback addresses.
	Resolvers []netip.AddrPort
	// ResolvConf is read for Resolvers when those are empty, once, at New; default
	// DefaultResolvConf.
	ResolvConf string
	// ProxyPort is the port of the allowlist proxy on 127.0.0.1 inside each ALLOWLIST
	// sandbox; default DefaultProxyPort.
	ProxyPort uint16
	// Hosts overrides name resolution for the allowlist proxy: a listed name resolves to
	// exactly these addresses, which are still checked against the forbidden ranges.
	Hosts map[string][]netip.Addr
	// Resolver resolves the other names for the allowlist proxy; default
	// net.DefaultResolver (the host's resolv.conf).
	Resolver *net.Resolver
}

// withDefaults fills in defaults and checks the configuration.
func (c Config) withDefaults() (Config, error) {
	if c.PoolSize == 0 {
		c.PoolSize = DefaultPoolSize
	}
	if !c.Subnet.IsValid() {
		c.Subnet = DefaultSubnet
	}
	c.Subnet = c.Subnet.Masked()
	if len(c.Tag) > 4 || strings.Trim(c.Tag, "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
		return c, fmt.Errorf("egress: %w: tag %q must be up to 4 lowercase letters or digits", errdefs.ErrInvalidArgument, c.Tag)
	}
	for _, p := range c.Blocked {
		if !p.IsValid() || !p.Addr().Is4() {
			return c, fmt.Errorf("egress: %w: blocked range %s is not an IPv4 prefix", errdefs.ErrInvalidArgument, p)
		}
	}
	if c.ResolvConf == "" {
		c.ResolvConf = DefaultResolvConf
	}
	if c.ProxyPort == 0 {
		c.ProxyPort = DefaultProxyPort
	}
	if c.Resolver == nil {
		c.Resolver = net.DefaultResolver
	}
	hosts := make(map[string][]netip.Addr, len(c.Hosts))
	for k, v := range c.Hosts {
		hosts[strings.ToLower(strings.TrimSuffix(k, "."))] = v
	}
	c.Hosts = hosts
	return c, nil
}

// table is the nftables table name.
func (c Config) table() string {
	if c.Tag == "" {
		return DefaultTable
	}
	return DefaultTable + "_" + c.Tag
}

// ifacePrefix starts the names of this Manager's host-side veths.
func (c Config) ifacePrefix() string { return ifaceBase + c.Tag + "-" }

// blocked is every range the rules and the proxy forbid: the built-in list, the
// configured extras, and the sandbox subnet itself.
func (c Config) blocked() []netip.Prefix {
	out := ForbiddenPrefixes()
	out = append(out, c.Blocked...)
	return append(out, c.Subnet)
}
