package egress

import (
	"fmt"
	"net/netip"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// ruleset is the nftables table of one Manager (family inet, so it sees IPv4 and IPv6).
// All of its matches on interfaces use ifaceBase, the prefix every Berth sandbox veth
// shares, so every Berth table enforces the same policy on every Berth sandbox.
//
//	chain refuse (regular chain; "reject" below means "goto refuse")
//	  meta l4proto tcp                                     reject with tcp reset
//	                                                       reject with icmpx admin-prohibited
//	chain forward (filter, hook forward, priority 0, policy accept)
//	  iifname "brth*" fib saddr . iif oif missing          drop     # spoofed source address
//	  iifname "brth*" meta nfproto ipv6                    reject   # no IPv6 at all
//	  iifname "brth*" ip daddr <each blocked prefix>       reject   # private ranges, other sandboxes
//	  oifname "brth*" ct state established,related         accept   # replies to the sandbox
//	  oifname "brth*"                                      drop     # nothing else comes in
//	  [guard] iifname != "brth*" oifname != "brth*"        drop     # only when Berth turned forwarding on
//	chain input (filter, hook input, priority 0, policy accept)
//	  iifname "brth*"                                      reject   # the host itself, on any address
//	chain output (filter, hook output, priority 0, policy accept)
//	  oifname "brth*" ct state new                         drop     # the host may not connect in
//	chain postrouting (nat, hook postrouting, priority 100, policy accept)
//	  meta nfproto ipv4 ip saddr <subnet> oifname != "brth*" masquerade
//
// Rejecting rather than dropping makes a sandbox's connect to a forbidden address fail at
// once (ECONNREFUSED for TCP) instead of hanging until its timeout.
type ruleset struct {
	table   string
	subnet  netip.Prefix
	blocked []netip.Prefix
	guard   bool // drop forwarding between non-Berth interfaces
}

// install creates the table, atomically replacing a table of the same name (one left by a
// crashed process).
func (rs ruleset) install() error {
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("install egress rules: %w", err)
	}
	t := &nftables.Table{Family: nftables.TableFamilyINet, Name: rs.table}
	exists, err := tableExists(c, rs.table)
	if err != nil {
		return fmt.Errorf("install egress rules: %w", err)
	}
	if exists {
		c.DelTable(t)
	}
	c.AddTable(t)
	accept := nftables.ChainPolicyAccept
	chain := func(name string, typ nftables.ChainType, hook *nftables.ChainHook, prio *nftables.ChainPriority) *nftables.Chain {
		return c.AddChain(&nftables.Chain{Name: name, Table: t, Type: typ, Hooknum: hook, Priority: prio, Policy: &accept})
	}
	rule := func(ch *nftables.Chain, parts ...[]expr.Any) {
		var ex []expr.Any
		for _, p := range parts {
			ex = append(ex, p...)
		}
		c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: ex})
	}

	// refuse is where every rejection goes: TCP gets a reset (ECONNREFUSED at once; TCP
	// resets are not rate-limited like ICMP errors), everything else ICMP "administratively
	// prohibited".
	refuse := c.AddChain(&nftables.Chain{Name: "refuse", Table: t})
	rule(refuse, l4proto(unix.IPPROTO_TCP), []expr.Any{&expr.Reject{Type: unix.NFT_REJECT_TCP_RST}})
	rule(refuse, []expr.Any{&expr.Reject{Type: unix.NFT_REJECT_ICMPX_UNREACH, Code: unix.NFT_REJECT_ICMPX_ADMIN_PROHIBITED}})
	reject := func() []expr.Any { return verdict(expr.VerdictGoto, "refuse") }

	fwd := chain("forward", nftables.ChainTypeFilter, nftables.ChainHookForward, nftables.ChainPriorityFilter)
	rule(fwd, ifname(expr.MetaKeyIIFNAME, expr.CmpOpEq), []expr.Any{
		&expr.Fib{Register: 1, ResultOIF: true, FlagSADDR: true, FlagIIF: true},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: make([]byte, 4)},
	}, verdict(expr.VerdictDrop))
	rule(fwd, ifname(expr.MetaKeyIIFNAME, expr.CmpOpEq), nfproto(unix.NFPROTO_IPV6), reject())
	for _, p := range rs.blocked {
		rule(fwd, ifname(expr.MetaKeyIIFNAME, expr.CmpOpEq), nfproto(unix.NFPROTO_IPV4), ip4(16, p), reject())
	}
	rule(fwd, ifname(expr.MetaKeyOIFNAME, expr.CmpOpEq),
		ctState(expr.CtStateBitESTABLISHED|expr.CtStateBitRELATED), verdict(expr.VerdictAccept))
	rule(fwd, ifname(expr.MetaKeyOIFNAME, expr.CmpOpEq), verdict(expr.VerdictDrop))
	if rs.guard {
		rule(fwd, ifname(expr.MetaKeyIIFNAME, expr.CmpOpNeq), ifname(expr.MetaKeyOIFNAME, expr.CmpOpNeq),
			verdict(expr.VerdictDrop))
	}

	in := chain("input", nftables.ChainTypeFilter, nftables.ChainHookInput, nftables.ChainPriorityFilter)
	rule(in, ifname(expr.MetaKeyIIFNAME, expr.CmpOpEq), reject())

	out := chain("output", nftables.ChainTypeFilter, nftables.ChainHookOutput, nftables.ChainPriorityFilter)
	rule(out, ifname(expr.MetaKeyOIFNAME, expr.CmpOpEq), ctState(expr.CtStateBitNEW), verdict(expr.VerdictDrop))

	nat := chain("postrouting", nftables.ChainTypeNAT, nftables.ChainHookPostrouting, nftables.ChainPriorityNATSource)
	rule(nat, nfproto(unix.NFPROTO_IPV4), ip4(12, rs.subnet), ifname(expr.MetaKeyOIFNAME, expr.CmpOpNeq),
		[]expr.Any{&expr.Masq{}})

	if err := c.Flush(); err != nil {
		return fmt.Errorf("install egress rules in table inet %s: %w", rs.table, err)
	}
	return nil
}

// removeTable deletes the table if it exists.
func removeTable(name string) error {
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("remove egress rules: %w", err)
	}
	exists, err := tableExists(c, name)
	if err != nil || !exists {
		return err
	}
	c.DelTable(&nftables.Table{Family: nftables.TableFamilyINet, Name: name})
	if err := c.Flush(); err != nil {
		return fmt.Errorf("remove egress rules in table inet %s: %w", name, err)
	}
	return nil
}

func tableExists(c *nftables.Conn, name string) (bool, error) {
	ts, err := c.ListTablesOfFamily(nftables.TableFamilyINet)
	if err != nil {
		return false, fmt.Errorf("list nftables tables: %w", err)
	}
	for _, t := range ts {
		if t.Name == name {
			return true, nil
		}
	}
	return false, nil
}

// ifname matches the interface name against ifaceBase as a prefix (nft's "brth*"): the
// comparison covers only the prefix's bytes of the NUL-padded name.
func ifname(key expr.MetaKey, op expr.CmpOp) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: key, Register: 1},
		&expr.Cmp{Op: op, Register: 1, Data: []byte(ifaceBase)},
	}
}

func nfproto(p byte) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{p}},
	}
}

// ip4 matches the IPv4 address at offset (12 source, 16 destination) against prefix p.
func ip4(offset uint32, p netip.Prefix) []expr.Any {
	p = p.Masked()
	var mask [4]byte
	for i := range p.Bits() {
		mask[i/8] |= 0x80 >> (i % 8)
	}
	net := p.Addr().As4()
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offset, Len: 4},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: mask[:], Xor: make([]byte, 4)},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: net[:]},
	}
}

// ctState matches when the connection's state has any of bits.
func ctState(bits uint32) []expr.Any {
	return []expr.Any{
		&expr.Ct{Register: 1, Key: expr.CtKeySTATE},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(bits), Xor: make([]byte, 4)},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: make([]byte, 4)},
	}
}

func l4proto(p byte) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{p}},
	}
}

// verdict ends a rule; chain names the target of a jump or goto.
func verdict(k expr.VerdictKind, chain ...string) []expr.Any {
	v := &expr.Verdict{Kind: k}
	if len(chain) > 0 {
		v.Chain = chain[0]
	}
	return []expr.Any{v}
}
