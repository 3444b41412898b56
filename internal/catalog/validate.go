package catalog

import "berth.dev/berth/internal/errdefs"

// Request validation. Every Validate* function checks a whole request against the field
// constraints of AGENTCORE-WIRE.md §3.2–§3.6 and returns nil or an *errdefs.ValidationError
// (reason FieldValidationFailed) listing every violated constraint, not just the first.
// Field names are wire member paths joined with ".", list items written [i] and map
// entries [key] ("agentRuntimeArtifact.codeConfiguration.code.s3.bucket",
// "environmentVariables[FOO]"); messages are AWS's ("Member must not be null", "Member
// must have length less than or equal to 48", ...). Lengths count Unicode code points.
//
// The rules by area live in validate_artifact.go, validate_authorizer.go,
// validate_network.go, validate_protocol.go, validate_runtime.go, validate_storage.go,
// validate_endpoint.go and validate_common.go.

// ValidateCreateRuntime checks a CreateAgentRuntime request: the runtime name, the full
// configuration, tags and clientToken. metadataConfiguration and
// networkModeConfig.requireServiceS3Endpoint are rejected: AgentCore takes them on update
// only.
func ValidateCreateRuntime(name string, cfg RuntimeConfig, tags map[string]string, clientToken *string) error {
	var f errdefs.Fields
	r := fieldRules{&f}
	r.name("agentRuntimeName", name)
	r.runtimeConfig(&cfg, forCreate)
	r.tags("tags", tags)
	ValidateClientToken("clientToken", clientToken, &f)
	return f.Err()
}

// ValidateUpdateRuntime checks an UpdateAgentRuntime request: a full replacement of the
// configuration (agentRuntimeArtifact, roleArn and networkConfiguration are required, as on
// create) plus clientToken.
func ValidateUpdateRuntime(cfg RuntimeConfig, clientToken *string) error {
	var f errdefs.Fields
	r := fieldRules{&f}
	r.runtimeConfig(&cfg, forUpdate)
	ValidateClientToken("clientToken", clientToken, &f)
	return f.Err()
}
