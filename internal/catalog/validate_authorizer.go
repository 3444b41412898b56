package catalog

import "regexp"

var (
	patDiscoveryURL = regexp.MustCompile(`^.+/\.well-known/openid-configuration$`)
	patScope        = regexp.MustCompile(`^[\x21\x23-\x5B\x5D-\x7E]+$`)
	patClaimName    = regexp.MustCompile(`^[A-Za-z0-9_.\-:]+$`)
)

// Claim value types and match operators of a custom claim rule.
const (
	claimString      = "STRING"
	claimStringArray = "STRING_ARRAY"
	opEquals         = "EQUALS"
	opContains       = "CONTAINS"
	opContainsAny    = "CONTAINS_ANY"
)

// authorizer checks the authorizerConfiguration union (only customJWTAuthorizer exists).
func (r fieldRules) authorizer(a *AuthorizerConfiguration) {
	const at = "authorizerConfiguration"
	if a == nil {
		return
	}
	r.union(at, []string{"customJWTAuthorizer"}, a.CustomJWTAuthorizer != nil)
	j := a.CustomJWTAuthorizer
	if j == nil {
		return
	}
	jwt := fieldMember(at, "customJWTAuthorizer")
	if u := fieldMember(jwt, "discoveryUrl"); r.required(u, j.DiscoveryURL) {
		r.pattern(u, j.DiscoveryURL, patDiscoveryURL)
	}
	// Optional lists are absent when nil; present-but-empty violates their minimum.
	if j.AllowedAudience != nil {
		r.count(fieldMember(jwt, "allowedAudience"), len(j.AllowedAudience), 1, -1)
	}
	if j.AllowedClients != nil {
		r.count(fieldMember(jwt, "allowedClients"), len(j.AllowedClients), 1, -1)
	}
	if j.AllowedScopes != nil {
		sc := fieldMember(jwt, "allowedScopes")
		r.count(sc, len(j.AllowedScopes), 1, -1)
		for i, s := range j.AllowedScopes {
			r.scope(fieldItem(sc, i), s)
		}
	}
	if j.AdvertisedScopeMapping != nil {
		m := fieldMember(jwt, "advertisedScopeMapping")
		r.count(m, len(j.AdvertisedScopeMapping), 1, 50)
		for _, k := range sortedFieldKeys(j.AdvertisedScopeMapping) {
			e := fieldEntry(m, k)
			r.key(e, k, 1, 255, patScope)
			r.scope(e, j.AdvertisedScopeMapping[k])
		}
	}
	if j.CustomClaims != nil {
		cc := fieldMember(jwt, "customClaims")
		r.count(cc, len(j.CustomClaims), 1, -1)
		for i := range j.CustomClaims {
			r.customClaim(fieldItem(cc, i), &j.CustomClaims[i])
		}
	}
}

// scope checks one OAuth scope: 1–255 printable ASCII characters except '"' and '\'.
func (r fieldRules) scope(at, s string) {
	r.length(at, s, 1, 255)
	r.pattern(at, s, patScope)
}

// customClaim checks one claim rule. Besides each member's own constraints, the members
// must agree: EQUALS applies to STRING claims, CONTAINS and CONTAINS_ANY to STRING_ARRAY
// claims; EQUALS compares against matchValueString, CONTAINS_ANY against
// matchValueStringList, and CONTAINS accepts either (AWS's documents disagree on which).
func (r fieldRules) customClaim(at string, c *CustomClaim) {
	if n := fieldMember(at, "inboundTokenClaimName"); r.required(n, c.InboundTokenClaimName) {
		r.length(n, c.InboundTokenClaimName, 1, 255)
		r.pattern(n, c.InboundTokenClaimName, patClaimName)
	}
	vt := fieldMember(at, "inboundTokenClaimValueType")
	typeOK := r.required(vt, c.InboundTokenClaimValueType)
	if typeOK {
		r.oneOf(vt, c.InboundTokenClaimValueType, claimString, claimStringArray)
	}
	mv := fieldMember(at, "authorizingClaimMatchValue")
	if !r.notNull(mv, c.AuthorizingClaimMatchValue != nil) {
		return
	}
	rule := c.AuthorizingClaimMatchValue
	op := fieldMember(mv, "claimMatchOperator")
	if r.required(op, rule.ClaimMatchOperator) {
		r.oneOf(op, rule.ClaimMatchOperator, opEquals, opContains, opContainsAny)
		switch {
		case !typeOK:
		case rule.ClaimMatchOperator == opEquals && c.InboundTokenClaimValueType == claimStringArray:
			r.f.Add(op, "Member must be CONTAINS or CONTAINS_ANY when inboundTokenClaimValueType is STRING_ARRAY")
		case (rule.ClaimMatchOperator == opContains || rule.ClaimMatchOperator == opContainsAny) &&
			c.InboundTokenClaimValueType == claimString:
			r.f.Add(op, "Member must be EQUALS when inboundTokenClaimValueType is STRING")
		}
	}
	val := fieldMember(mv, "claimMatchValue")
	v := rule.ClaimMatchValue
	if !r.notNull(val, v != nil) {
		return
	}
	r.union(val, []string{"matchValueString", "matchValueStringList"},
		v.MatchValueString != nil, v.MatchValueStringList != nil)
	if v.MatchValueString != nil {
		r.length(fieldMember(val, "matchValueString"), *v.MatchValueString, 1, 255)
	}
	if v.MatchValueStringList != nil {
		l := fieldMember(val, "matchValueStringList")
		r.count(l, len(v.MatchValueStringList), 1, 255)
		for i, s := range v.MatchValueStringList {
			r.length(fieldItem(l, i), s, 1, 255)
		}
	}
	// Only a well-formed union is checked against the operator, so that one mistake is
	// reported once.
	if (v.MatchValueString != nil) == (v.MatchValueStringList != nil) {
		return
	}
	switch {
	case rule.ClaimMatchOperator == opEquals && v.MatchValueString == nil:
		r.f.Add(fieldMember(val, "matchValueString"), "Member must not be null when claimMatchOperator is EQUALS")
	case rule.ClaimMatchOperator == opContainsAny && v.MatchValueStringList == nil:
		r.f.Add(fieldMember(val, "matchValueStringList"), "Member must not be null when claimMatchOperator is CONTAINS_ANY")
	}
}
