package catalog

import "regexp"

var (
	patSecurityGroup = regexp.MustCompile(`^sg-[0-9a-zA-Z]{8,17}$`)
	patSubnet        = regexp.MustCompile(`^subnet-[0-9a-zA-Z]{8,17}$`)
)

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
