package catalog

import (
	"regexp"
	"strings"
)

var (
	patSecurityGroup = regexp.MustCompile(`^sg-[0-9a-zA-Z]{8,17}$`)
	patSubnet        = regexp.MustCompile(`^subnet-[0-9a-zA-Z]{8,17}$`)
	// patEgressDomain is a DNS name of two or more labels (letters, digits, inner hyphens;
	// the last starts with a letter, so no IP address), optionally after "*.".
	patEgressDomain = regexp.MustCompile(`^(\*\.)?([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$`)
)

// maxEgressAllowlist bounds egressAllowlist (the sandbox egress package takes as many).
const maxEgressAllowlist = 256

const msgEgressDomain = "Member must be a domain name such as api.example.com, or *. and a domain name " +
	"such as *.example.com for every name below it; no scheme, port, path or IP address"

// network checks networkConfiguration. VPC settings mean nothing outside AWS but are stored
// as given, so they are held to AWS's rules; PUBLIC takes no networkModeConfig.
func (r fieldRules) network(n *NetworkConfiguration, o configOp) {
	const at = "networkConfiguration"
	if !r.notNull(at, n != nil) {
		return
	}
	mode := fieldMember(at, "networkMode")
	if r.required(mode, n.NetworkMode) {
		r.oneOf(mode, n.NetworkMode, "PUBLIC", "VPC")
	}
	r.egressAllowlist(n)
	mc := fieldMember(at, "networkModeConfig")
	c := n.NetworkModeConfig
	switch {
	case n.NetworkMode == "VPC" && c == nil:
		r.f.Add(mc, "Member must not be null when networkMode is VPC")
		return
	case n.NetworkMode == "PUBLIC" && c != nil:
		r.f.Add(mc, "Member must be null when networkMode is PUBLIC")
		return
	case c == nil:
		return
	}
	sg := fieldMember(mc, "securityGroups")
	r.count(sg, len(c.SecurityGroups), 1, 16)
	for i, g := range c.SecurityGroups {
		r.pattern(fieldItem(sg, i), g, patSecurityGroup)
	}
	sn := fieldMember(mc, "subnets")
	r.count(sn, len(c.Subnets), 1, 16)
	for i, s := range c.Subnets {
		r.pattern(fieldItem(sn, i), s, patSubnet)
	}
	if o == forCreate && c.RequireServiceS3Endpoint != nil {
		r.f.Add(fieldMember(mc, "requireServiceS3Endpoint"), "Member must be null on create")
	}
}

// allowedPorts checks the allowedPorts list: each item is a union of a single port or an
// inclusive range, ports are 1–65535, and a range's from is at most its to.
func (r fieldRules) allowedPorts(ports []AllowedPort) {
	const at = "allowedPorts"
	for i := range ports {
		p := &ports[i]
		it := fieldItem(at, i)
		r.union(it, []string{"port", "portRange"}, p.Port != nil, p.PortRange != nil)
		if p.Port != nil {
			r.between(fieldMember(it, "port"), int64(*p.Port), 1, 65535)
		}
		if pr := p.PortRange; pr != nil {
			rg := fieldMember(it, "portRange")
			fromOK := r.between(fieldMember(rg, "from"), int64(pr.From), 1, 65535)
			toOK := r.between(fieldMember(rg, "to"), int64(pr.To), 1, 65535)
			if fromOK && toOK && pr.From > pr.To {
				r.f.Add(rg, "Member from (%d) must be less than or equal to to (%d)", pr.From, pr.To)
			}
		}
	}
}

// egressAllowlist checks Berth's egressAllowlist extension: only with networkMode PUBLIC,
// 1–256 domains, each a DNS name (253 characters at most) or a "*." wildcard of one.
func (r fieldRules) egressAllowlist(n *NetworkConfiguration) {
	if n.EgressAllowlist == nil {
		return
	}
	at := fieldMember("networkConfiguration", "egressAllowlist")
	if n.NetworkMode != "PUBLIC" {
		r.f.Add(at, "Member must be null unless networkMode is PUBLIC")
		return
	}
	r.count(at, len(n.EgressAllowlist), 1, maxEgressAllowlist)
	for i, d := range n.EgressAllowlist {
		if !patEgressDomain.MatchString(d) || len(strings.TrimPrefix(d, "*.")) > 253 {
			r.f.Add(fieldItem(at, i), msgEgressDomain)
		}
	}
}
