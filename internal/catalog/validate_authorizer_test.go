package catalog

import (
	"strings"
	"testing"

	"berth.dev/berth/internal/errdefs"
)

const (
	vJWTField     = "authorizerConfiguration.customJWTAuthorizer"
	vClaimField   = vJWTField + ".customClaims[0]"
	vMatchField   = vClaimField + ".authorizingClaimMatchValue"
	vScopePattern = `Member must satisfy regular expression pattern: ^[\x21\x23-\x5B\x5D-\x7E]+$`
)

// vWithJWT installs a valid JWT authorizer, then applies edit to it.
func vWithJWT(edit func(*CustomJWTAuthorizer)) func(*RuntimeConfig) {
	return func(c *RuntimeConfig) {
		j := vJWT()
		edit(j)
		c.AuthorizerConfiguration = &AuthorizerConfiguration{CustomJWTAuthorizer: j}
	}
}

// vWithClaim installs a valid JWT authorizer whose only custom claim is c.
func vWithClaim(c CustomClaim) func(*RuntimeConfig) {
	return vWithJWT(func(j *CustomJWTAuthorizer) { j.CustomClaims = []CustomClaim{c} })
}

// vClaim builds a custom claim rule; list is used when non-nil, str when non-nil.
func vClaim(name, valueType, operator string, str *string, list []string) CustomClaim {
	return CustomClaim{
		InboundTokenClaimName:      name,
		InboundTokenClaimValueType: valueType,
		AuthorizingClaimMatchValue: &ClaimMatchValueRule{
			ClaimMatchOperator: operator,
			ClaimMatchValue:    &ClaimMatchValue{MatchValueString: str, MatchValueStringList: list},
		},
	}
}

func TestValidateCreateRuntime_Authorizer(t *testing.T) {
	s := new("v")
	long255, long256 := strings.Repeat("s", 255), "t"+strings.Repeat("s", 255)
	vRunCreateCases(t, vMinimalConfig, []vCase{
		{"full", vWithJWT(func(*CustomJWTAuthorizer) {}), nil},
		{"discovery only", func(c *RuntimeConfig) {
			c.AuthorizerConfiguration = &AuthorizerConfiguration{CustomJWTAuthorizer: &CustomJWTAuthorizer{
				DiscoveryURL: "http://localhost:8080/.well-known/openid-configuration",
			}}
		}, nil},
		{"union empty", func(c *RuntimeConfig) { c.AuthorizerConfiguration = &AuthorizerConfiguration{} },
			[]errdefs.FieldError{vFE("authorizerConfiguration", "Member must have exactly one of [customJWTAuthorizer] set, but none was set")}},
		// discoveryUrl
		{"discovery missing", vWithJWT(func(j *CustomJWTAuthorizer) { j.DiscoveryURL = "" }),
			[]errdefs.FieldError{vFE(vJWTField+".discoveryUrl", msgNotNull)}},
		{"discovery wrong suffix", vWithJWT(func(j *CustomJWTAuthorizer) { j.DiscoveryURL = "https://idp/.well-known/jwks.json" }),
			[]errdefs.FieldError{vFE(vJWTField+".discoveryUrl", `Member must satisfy regular expression pattern: ^.+/\.well-known/openid-configuration$`)}},
		{"discovery no host", vWithJWT(func(j *CustomJWTAuthorizer) { j.DiscoveryURL = "/.well-known/openid-configuration" }),
			[]errdefs.FieldError{vFE(vJWTField+".discoveryUrl", `Member must satisfy regular expression pattern: ^.+/\.well-known/openid-configuration$`)}},
		// allowedAudience / allowedClients
		{"audience empty list", vWithJWT(func(j *CustomJWTAuthorizer) { j.AllowedAudience = []string{} }),
			[]errdefs.FieldError{vFE(vJWTField+".allowedAudience", "Member must have length greater than or equal to 1")}},
		{"clients empty list", vWithJWT(func(j *CustomJWTAuthorizer) { j.AllowedClients = []string{} }),
			[]errdefs.FieldError{vFE(vJWTField+".allowedClients", "Member must have length greater than or equal to 1")}},
		// allowedScopes
		{"scope printable ascii", vWithJWT(func(j *CustomJWTAuthorizer) { j.AllowedScopes = []string{"!#[]~" + strings.Repeat("s", 250)} }), nil},
		{"scopes empty list", vWithJWT(func(j *CustomJWTAuthorizer) { j.AllowedScopes = []string{} }),
			[]errdefs.FieldError{vFE(vJWTField+".allowedScopes", "Member must have length greater than or equal to 1")}},
		{"scope items", vWithJWT(func(j *CustomJWTAuthorizer) {
			j.AllowedScopes = []string{"ok", "", "a b", `a"b`, `a\b`, strings.Repeat("s", 256)}
		}), []errdefs.FieldError{
			vFE(vJWTField+".allowedScopes[1]", "Member must have length greater than or equal to 1"),
			vFE(vJWTField+".allowedScopes[1]", vScopePattern),
			vFE(vJWTField+".allowedScopes[2]", vScopePattern),
			vFE(vJWTField+".allowedScopes[3]", vScopePattern),
			vFE(vJWTField+".allowedScopes[4]", vScopePattern),
			vFE(vJWTField+".allowedScopes[5]", "Member must have length less than or equal to 255"),
		}},
		// advertisedScopeMapping
		{"mapping 50", vWithJWT(func(j *CustomJWTAuthorizer) {
			j.AdvertisedScopeMapping = map[string]string{}
			for i := range 50 {
				j.AdvertisedScopeMapping["s"+strings.Repeat("x", i)] = "a"
			}
		}), nil},
		{"mapping empty", vWithJWT(func(j *CustomJWTAuthorizer) { j.AdvertisedScopeMapping = map[string]string{} }),
			[]errdefs.FieldError{vFE(vJWTField+".advertisedScopeMapping", "Member must have length greater than or equal to 1")}},
		{"mapping 51", vWithJWT(func(j *CustomJWTAuthorizer) {
			j.AdvertisedScopeMapping = map[string]string{}
			for i := range 51 {
				j.AdvertisedScopeMapping["s"+strings.Repeat("x", i)] = "a"
			}
		}), []errdefs.FieldError{vFE(vJWTField+".advertisedScopeMapping", "Member must have length less than or equal to 50")}},
		{"mapping entries", vWithJWT(func(j *CustomJWTAuthorizer) {
			j.AdvertisedScopeMapping = map[string]string{"a b": "ok", "ok": "", long256: long256, long255: long255}
		}), []errdefs.FieldError{
			vFE(vJWTField+".advertisedScopeMapping[a b]", `Map key must satisfy regular expression pattern: ^[\x21\x23-\x5B\x5D-\x7E]+$`),
			vFE(vJWTField+".advertisedScopeMapping[ok]", "Member must have length greater than or equal to 1"),
			vFE(vJWTField+".advertisedScopeMapping[ok]", vScopePattern),
			vFE(vJWTField+".advertisedScopeMapping["+long256+"]", "Map key must have length less than or equal to 255"),
			vFE(vJWTField+".advertisedScopeMapping["+long256+"]", "Member must have length less than or equal to 255"),
		}},
		// customClaims
		{"claims empty list", vWithJWT(func(j *CustomJWTAuthorizer) { j.CustomClaims = []CustomClaim{} }),
			[]errdefs.FieldError{vFE(vJWTField+".customClaims", "Member must have length greater than or equal to 1")}},
		{"claim CONTAINS string", vWithClaim(vClaim("roles", "STRING_ARRAY", "CONTAINS", s, nil)), nil},
		{"claim CONTAINS list", vWithClaim(vClaim("roles", "STRING_ARRAY", "CONTAINS", nil, []string{"a"})), nil},
		{"claim name chars", vWithClaim(vClaim("a_b.c-d:E9", "STRING", "EQUALS", s, nil)), nil},
		{"claim name missing", vWithClaim(vClaim("", "STRING", "EQUALS", s, nil)),
			[]errdefs.FieldError{vFE(vClaimField+".inboundTokenClaimName", msgNotNull)}},
		{"claim name 256", vWithClaim(vClaim(strings.Repeat("c", 256), "STRING", "EQUALS", s, nil)),
			[]errdefs.FieldError{vFE(vClaimField+".inboundTokenClaimName", "Member must have length less than or equal to 255")}},
		{"claim name pattern", vWithClaim(vClaim("a/b", "STRING", "EQUALS", s, nil)),
			[]errdefs.FieldError{vFE(vClaimField+".inboundTokenClaimName", `Member must satisfy regular expression pattern: ^[A-Za-z0-9_.\-:]+$`)}},
		{"claim type missing", vWithClaim(vClaim("c", "", "EQUALS", s, nil)),
			[]errdefs.FieldError{vFE(vClaimField+".inboundTokenClaimValueType", msgNotNull)}},
		{"claim type unknown", vWithClaim(vClaim("c", "NUMBER", "EQUALS", s, nil)),
			[]errdefs.FieldError{vFE(vClaimField+".inboundTokenClaimValueType", "Member must be one of [STRING, STRING_ARRAY]")}},
		{"claim rule missing", vWithClaim(CustomClaim{InboundTokenClaimName: "c", InboundTokenClaimValueType: "STRING"}),
			[]errdefs.FieldError{vFE(vMatchField, msgNotNull)}},
		{"claim operator missing", vWithClaim(vClaim("c", "STRING", "", s, nil)),
			[]errdefs.FieldError{vFE(vMatchField+".claimMatchOperator", msgNotNull)}},
		{"claim operator unknown", vWithClaim(vClaim("c", "STRING", "LIKE", s, nil)),
			[]errdefs.FieldError{vFE(vMatchField+".claimMatchOperator", "Member must be one of [EQUALS, CONTAINS, CONTAINS_ANY]")}},
		{"EQUALS on array", vWithClaim(vClaim("c", "STRING_ARRAY", "EQUALS", s, nil)),
			[]errdefs.FieldError{vFE(vMatchField+".claimMatchOperator", "Member must be CONTAINS or CONTAINS_ANY when inboundTokenClaimValueType is STRING_ARRAY")}},
		{"CONTAINS on string", vWithClaim(vClaim("c", "STRING", "CONTAINS", s, nil)),
			[]errdefs.FieldError{vFE(vMatchField+".claimMatchOperator", "Member must be EQUALS when inboundTokenClaimValueType is STRING")}},
		{"claim value missing", vWithClaim(CustomClaim{
			InboundTokenClaimName: "c", InboundTokenClaimValueType: "STRING",
			AuthorizingClaimMatchValue: &ClaimMatchValueRule{ClaimMatchOperator: "EQUALS"},
		}), []errdefs.FieldError{vFE(vMatchField+".claimMatchValue", msgNotNull)}},
		{"claim value none", vWithClaim(vClaim("c", "STRING", "EQUALS", nil, nil)),
			[]errdefs.FieldError{vFE(vMatchField+".claimMatchValue", "Member must have exactly one of [matchValueString, matchValueStringList] set, but none was set")}},
		{"claim value both", vWithClaim(vClaim("c", "STRING_ARRAY", "CONTAINS", s, []string{"a"})),
			[]errdefs.FieldError{vFE(vMatchField+".claimMatchValue", "Member must have exactly one of [matchValueString, matchValueStringList] set, but 2 were set: matchValueString, matchValueStringList")}},
		{"EQUALS needs string", vWithClaim(vClaim("c", "STRING", "EQUALS", nil, []string{"a"})),
			[]errdefs.FieldError{vFE(vMatchField+".claimMatchValue.matchValueString", "Member must not be null when claimMatchOperator is EQUALS")}},
		{"CONTAINS_ANY needs list", vWithClaim(vClaim("c", "STRING_ARRAY", "CONTAINS_ANY", s, nil)),
			[]errdefs.FieldError{vFE(vMatchField+".claimMatchValue.matchValueStringList", "Member must not be null when claimMatchOperator is CONTAINS_ANY")}},
		{"match string lengths", vWithClaim(vClaim("c", "STRING", "EQUALS", new(""), nil)),
			[]errdefs.FieldError{vFE(vMatchField+".claimMatchValue.matchValueString", "Member must have length greater than or equal to 1")}},
		{"match string 256", vWithClaim(vClaim("c", "STRING", "EQUALS", new(strings.Repeat("v", 256)), nil)),
			[]errdefs.FieldError{vFE(vMatchField+".claimMatchValue.matchValueString", "Member must have length less than or equal to 255")}},
		{"match list empty", vWithClaim(vClaim("c", "STRING_ARRAY", "CONTAINS_ANY", nil, []string{})),
			[]errdefs.FieldError{vFE(vMatchField+".claimMatchValue.matchValueStringList", "Member must have length greater than or equal to 1")}},
		{"match list 255 items", vWithClaim(vClaim("c", "STRING_ARRAY", "CONTAINS_ANY", nil, strings.Split(strings.Repeat("v", 255), ""))), nil},
		{"match list 256 items", vWithClaim(vClaim("c", "STRING_ARRAY", "CONTAINS_ANY", nil, strings.Split(strings.Repeat("v", 256), ""))),
			[]errdefs.FieldError{vFE(vMatchField+".claimMatchValue.matchValueStringList", "Member must have length less than or equal to 255")}},
		{"match list items", vWithClaim(vClaim("c", "STRING_ARRAY", "CONTAINS_ANY", nil, []string{"a", "", strings.Repeat("v", 256)})),
			[]errdefs.FieldError{
				vFE(vMatchField+".claimMatchValue.matchValueStringList[1]", "Member must have length greater than or equal to 1"),
				vFE(vMatchField+".claimMatchValue.matchValueStringList[2]", "Member must have length less than or equal to 255"),
			}},
		{"second claim named by index", vWithJWT(func(j *CustomJWTAuthorizer) {
			j.CustomClaims = append(j.CustomClaims, vClaim("c", "STRING", "NOPE", s, nil))
		}), []errdefs.FieldError{vFE(vJWTField+".customClaims[2].authorizingClaimMatchValue.claimMatchOperator", "Member must be one of [EQUALS, CONTAINS, CONTAINS_ANY]")}},
	})
}
