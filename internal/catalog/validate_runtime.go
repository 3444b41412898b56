package catalog

import (
	"regexp"
	"strings"
)

var (
	patRoleARN    = regexp.MustCompile(`^arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+$`)
	patHeaderName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,255}$`)
)

// configOp says which operation a RuntimeConfig arrives with: a few members are accepted
// on only one of them.
type configOp int

const (
	forCreate configOp = iota
	forUpdate
)

// runtimeConfig checks every member of a RuntimeConfig, in wire order.
func (r fieldRules) runtimeConfig(cfg *RuntimeConfig, o configOp) {
	r.artifact(cfg.AgentRuntimeArtifact)
	if r.required("roleArn", cfg.RoleArn) {
		r.length("roleArn", cfg.RoleArn, 1, 2048)
		r.pattern("roleArn", cfg.RoleArn, patRoleARN)
	}
	r.network(cfg.NetworkConfiguration, o)
	if cfg.Description != nil {
		r.length("description", *cfg.Description, 1, 4096)
	}
	r.authorizer(cfg.AuthorizerConfiguration)
	r.requestHeaders(cfg.RequestHeaderConfiguration, hasJWTAuthorizer(cfg))
	r.protocol(cfg.ProtocolConfiguration)
	r.lifecycle(cfg.LifecycleConfiguration)
	r.environment(cfg.EnvironmentVariables)
	r.filesystems(cfg.FilesystemConfigurations)
	if o == forCreate && cfg.MetadataConfiguration != nil {
		r.f.Add("metadataConfiguration", "Member must be null on create")
	}
	if cfg.PlatformVersion != "" {
		r.oneOf("platformVersion", cfg.PlatformVersion, "V1", "V2")
	}
	r.allowedPorts(cfg.AllowedPorts)
}

// requestHeaders checks the requestHeaderConfiguration union (only requestHeaderAllowlist).
func (r fieldRules) requestHeaders(h *RequestHeaderConfiguration, jwt bool) {
	const at = "requestHeaderConfiguration"
	if h == nil {
		return
	}
	r.union(at, []string{"requestHeaderAllowlist"}, h.RequestHeaderAllowlist != nil)
	if h.RequestHeaderAllowlist == nil {
		return
	}
	al := fieldMember(at, "requestHeaderAllowlist")
	r.count(al, len(h.RequestHeaderAllowlist), 1, 20)
	for i, name := range h.RequestHeaderAllowlist {
		r.length(fieldItem(al, i), name, 1, 256)
		r.pattern(fieldItem(al, i), name, patHeaderName)
		if ok, why := ForwardableHeader(name, jwt); !ok {
			r.f.Add(fieldItem(al, i), "Header %s cannot be allow-listed: %s", name, why)
		}
	}
}

// environment checks environmentVariables: ≤ 50 entries, key 1–100, value ≤ 5000. Keys
// with '=' or NUL and values with NUL cannot be put in a process environment, so Berth
// rejects them too.
func (r fieldRules) environment(env map[string]string) {
	const at = "environmentVariables"
	r.count(at, len(env), 0, 50)
	for _, k := range sortedFieldKeys(env) {
		e := fieldEntry(at, k)
		r.key(e, k, 1, 100, nil)
		if strings.ContainsAny(k, "=\x00") {
			r.f.Add(e, "Map key must not contain '=' or NUL")
		}
		v := env[k]
		r.length(e, v, 0, 5000)
		if strings.ContainsRune(v, 0) {
			r.f.Add(e, "Member must not contain NUL")
		}
	}
}
