package catalog

import (
	"fmt"
	"strings"
	"testing"

	"berth.dev/berth/internal/errdefs"
)

const (
	vNetField   = "networkConfiguration"
	vModeConfig = vNetField + ".networkModeConfig"
	vSGPattern  = "Member must satisfy regular expression pattern: ^sg-[0-9a-zA-Z]{8,17}$"
	vSNPattern  = "Member must satisfy regular expression pattern: ^subnet-[0-9a-zA-Z]{8,17}$"
)

// vWithVPC sets VPC networking with the given security groups and subnets.
func vWithVPC(groups, subnets []string) func(*RuntimeConfig) {
	return func(c *RuntimeConfig) {
		c.NetworkConfiguration = &NetworkConfiguration{NetworkMode: "VPC", NetworkModeConfig: &NetworkModeConfig{
			SecurityGroups: groups, Subnets: subnets,
		}}
	}
}

func vRepeatIDs(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + strings.Repeat("a", 8)
	}
	return out
}

func TestValidateCreateRuntime_Network(t *testing.T) {
	sg, sn := []string{"sg-12345678"}, []string{"subnet-12345678"}
	vRunCreateCases(t, vMinimalConfig, []vCase{
		{"public", func(*RuntimeConfig) {}, nil},
		{"vpc", vWithVPC(sg, sn), nil},
		{"vpc 16 each, longest ids", vWithVPC(
			append(vRepeatIDs("sg-", 15), "sg-"+strings.Repeat("Z", 17)),
			append(vRepeatIDs("subnet-", 15), "subnet-"+strings.Repeat("9", 17))), nil},
		{"missing", func(c *RuntimeConfig) { c.NetworkConfiguration = nil },
			[]errdefs.FieldError{vFE(vNetField, msgNotNull)}},
		{"mode missing", func(c *RuntimeConfig) { c.NetworkConfiguration.NetworkMode = "" },
			[]errdefs.FieldError{vFE(vNetField+".networkMode", msgNotNull)}},
		{"mode unknown", func(c *RuntimeConfig) { c.NetworkConfiguration.NetworkMode = "public" },
			[]errdefs.FieldError{vFE(vNetField+".networkMode", "Member must be one of [PUBLIC, VPC]")}},
		{"vpc without config", func(c *RuntimeConfig) { c.NetworkConfiguration.NetworkMode = "VPC" },
			[]errdefs.FieldError{vFE(vModeConfig, "Member must not be null when networkMode is VPC")}},
		{"public with config", func(c *RuntimeConfig) {
			vWithVPC(sg, sn)(c)
			c.NetworkConfiguration.NetworkMode = "PUBLIC"
		}, []errdefs.FieldError{vFE(vModeConfig, "Member must be null when networkMode is PUBLIC")}},
		{"vpc empty lists", vWithVPC(nil, []string{}), []errdefs.FieldError{
			vFE(vModeConfig+".securityGroups", "Member must have length greater than or equal to 1"),
			vFE(vModeConfig+".subnets", "Member must have length greater than or equal to 1"),
		}},
		{"vpc 17 each", vWithVPC(vRepeatIDs("sg-", 17), vRepeatIDs("subnet-", 17)), []errdefs.FieldError{
			vFE(vModeConfig+".securityGroups", "Member must have length less than or equal to 16"),
			vFE(vModeConfig+".subnets", "Member must have length less than or equal to 16"),
		}},
		{"vpc bad ids", vWithVPC(
			[]string{"sg-1234567", "sg-" + strings.Repeat("a", 18), "sg-1234567_"},
			[]string{"subnet-1234567", "subnet-abcdefgh", "sn-12345678"},
		), []errdefs.FieldError{
			vFE(vModeConfig+".securityGroups[0]", vSGPattern),
			vFE(vModeConfig+".securityGroups[1]", vSGPattern),
			vFE(vModeConfig+".securityGroups[2]", vSGPattern),
			vFE(vModeConfig+".subnets[0]", vSNPattern),
			vFE(vModeConfig+".subnets[2]", vSNPattern),
		}},
	})
}

func TestValidateCreateRuntime_AllowedPorts(t *testing.T) {
	ports := func(p ...AllowedPort) func(*RuntimeConfig) {
		return func(c *RuntimeConfig) { c.AllowedPorts = p }
	}
	rng := func(from, to int32) AllowedPort { return AllowedPort{PortRange: &PortRange{From: from, To: to}} }
	one := func(p int32) AllowedPort { return AllowedPort{Port: new(p)} }
	const between = "Member must have value between 1 and 65535"
	vRunCreateCases(t, vMinimalConfig, []vCase{
		{"bounds", ports(one(1), one(65535), rng(1, 65535), rng(7, 7)), nil},
		{"port 0", ports(one(0)), []errdefs.FieldError{vFE("allowedPorts[0].port", between)}},
		{"port 65536", ports(one(8080), one(65536)), []errdefs.FieldError{vFE("allowedPorts[1].port", between)}},
		{"range bounds", ports(rng(0, 65536)), []errdefs.FieldError{
			vFE("allowedPorts[0].portRange.from", between),
			vFE("allowedPorts[0].portRange.to", between),
		}},
		{"range reversed", ports(rng(9110, 9100)), []errdefs.FieldError{
			vFE("allowedPorts[0].portRange", "Member from (9110) must be less than or equal to to (9100)"),
		}},
		{"union none", ports(AllowedPort{}), []errdefs.FieldError{
			vFE("allowedPorts[0]", "Member must have exactly one of [port, portRange] set, but none was set"),
		}},
		{"union both", ports(AllowedPort{Port: new(int32(80)), PortRange: &PortRange{From: 1, To: 2}}), []errdefs.FieldError{
			vFE("allowedPorts[0]", "Member must have exactly one of [port, portRange] set, but 2 were set: port, portRange"),
		}},
	})
}

func TestValidateCreateRuntime_EgressAllowlist(t *testing.T) {
	const at = vNetField + ".egressAllowlist"
	allow := func(d ...string) func(*RuntimeConfig) {
		return func(c *RuntimeConfig) { c.NetworkConfiguration.EgressAllowlist = d }
	}
	long := strings.Repeat("a", 63) + "."
	vRunCreateCases(t, vMinimalConfig, []vCase{
		{"exact and wildcard", allow("api.example.com", "*.amazonaws.com", "PyPI.org", "a-b.c1.io"), nil},
		{"longest name (253)", allow(strings.Repeat(long, 3) + strings.Repeat("b", 57) + ".com"), nil},
		{"256 domains", allow(vDomains(256)...), nil},
		{"empty list", allow([]string{}...), []errdefs.FieldError{
			vFE(at, "Member must have length greater than or equal to 1"),
		}},
		{"257 domains", allow(vDomains(257)...), []errdefs.FieldError{
			vFE(at, "Member must have length less than or equal to 256"),
		}},
		{"not domains", allow("example.com", "https://example.com", "example.com:443", "example.com/path",
			"10.0.0.1", "localhost", "*", "a.*.example.com", "*.*.example.com", "-a.example.com", "a..example.com",
			"example.com.", "", strings.Repeat(long, 4)+"com"), []errdefs.FieldError{
			vFE(at+"[1]", msgEgressDomain), vFE(at+"[2]", msgEgressDomain), vFE(at+"[3]", msgEgressDomain),
			vFE(at+"[4]", msgEgressDomain), vFE(at+"[5]", msgEgressDomain), vFE(at+"[6]", msgEgressDomain),
			vFE(at+"[7]", msgEgressDomain), vFE(at+"[8]", msgEgressDomain), vFE(at+"[9]", msgEgressDomain),
			vFE(at+"[10]", msgEgressDomain), vFE(at+"[11]", msgEgressDomain), vFE(at+"[12]", msgEgressDomain),
			vFE(at+"[13]", msgEgressDomain),
		}},
		{"with VPC", func(c *RuntimeConfig) {
			vWithVPC([]string{"sg-12345678"}, []string{"subnet-12345678"})(c)
			c.NetworkConfiguration.EgressAllowlist = []string{"api.example.com"}
		}, []errdefs.FieldError{vFE(at, "Member must be null unless networkMode is PUBLIC")}},
	})
}

// vDomains returns n distinct valid domain names.
func vDomains(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("d%d.example.com", i)
	}
	return out
}
