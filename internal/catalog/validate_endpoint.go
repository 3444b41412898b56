package catalog

import (
	"regexp"

	"berth.dev/berth/internal/errdefs"
)

var patVersion = regexp.MustCompile(`^([1-9][0-9]{0,4})$`)

// ValidateCreateEndpoint checks a CreateAgentRuntimeEndpoint request (AGENTCORE-WIRE.md
// §3.6): name is required and matches ^[a-zA-Z][a-zA-Z0-9_]{0,47}$, agentRuntimeVersion
// (optional) matches ^([1-9][0-9]{0,4})$, description is 1–256 characters, plus the
// clientToken and tags rules. It returns nil or an *errdefs.ValidationError listing every
// violation.
func ValidateCreateEndpoint(name string, version, description, clientToken *string, tags map[string]string) error {
	var f errdefs.Fields
	r := fieldRules{&f}
	r.name("name", name)
	r.endpointVersion(version)
	r.endpointDescription(description)
	ValidateClientToken("clientToken", clientToken, &f)
	r.tags("tags", tags)
	return f.Err()
}

// ValidateUpdateEndpoint checks an UpdateAgentRuntimeEndpoint request: the same rules as
// create for agentRuntimeVersion, description and clientToken.
func ValidateUpdateEndpoint(version, description, clientToken *string) error {
	var f errdefs.Fields
	r := fieldRules{&f}
	r.endpointVersion(version)
	r.endpointDescription(description)
	ValidateClientToken("clientToken", clientToken, &f)
	return f.Err()
}

// name checks a runtime or endpoint name: required, at most 48 characters, letters, digits
// and underscores, starting with a letter.
func (r fieldRules) name(at, s string) {
	if !r.required(at, s) {
		return
	}
	r.length(at, s, 1, 48)
	r.pattern(at, s, namePattern)
}

func (r fieldRules) endpointVersion(v *string) {
	if v != nil {
		r.pattern("agentRuntimeVersion", *v, patVersion)
	}
}

func (r fieldRules) endpointDescription(d *string) {
	if d != nil {
		r.length("description", *d, 1, 256)
	}
}
