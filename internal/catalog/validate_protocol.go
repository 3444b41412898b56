package catalog

import (
	"strings"
	"time"
	"unicode"
)

// Server protocols an agent may speak.
const (
	protoHTTP = "HTTP"
	protoMCP  = "MCP"
	protoA2A  = "A2A"
	protoAGUI = "AGUI"
)

// Lifecycle bounds and defaults, in seconds (AGENTCORE-WIRE.md §3.2).
const (
	lifecycleMin        = 60
	lifecycleMax        = 28800
	defaultIdleSeconds  = 900
	defaultMaxLifetime  = 28800
	reservedAgentPort   = 8443
	minAgentPort        = 8000
	maxAgentPort        = 12000
	maxProtocolPathSize = 1024
)

// protocol checks protocolConfiguration: serverProtocol is required, port is 8000–12000
// except 8443, and path is an absolute URL path of at most 1024 characters.
func (r fieldRules) protocol(p *ProtocolConfiguration) {
	const at = "protocolConfiguration"
	if p == nil {
		return
	}
	sp := fieldMember(at, "serverProtocol")
	if r.required(sp, p.ServerProtocol) {
		r.oneOf(sp, p.ServerProtocol, protoHTTP, protoMCP, protoA2A, protoAGUI)
	}
	if p.Port != nil {
		port := fieldMember(at, "port")
		if r.between(port, int64(*p.Port), minAgentPort, maxAgentPort) && *p.Port == reservedAgentPort {
			r.f.Add(port, "Member must not be %d", reservedAgentPort)
		}
	}
	if p.Path != nil {
		path := fieldMember(at, "path")
		r.length(path, *p.Path, 1, maxProtocolPathSize)
		if *p.Path != "" && !strings.HasPrefix(*p.Path, "/") {
			r.f.Add(path, "Member must start with /")
		}
		// Berth's proxy appends the path to the agent's URL verbatim.
		if strings.ContainsAny(*p.Path, "?#") || strings.ContainsFunc(*p.Path, func(c rune) bool {
			return unicode.IsSpace(c) || unicode.IsControl(c)
		}) {
			r.f.Add(path, "Member must not contain '?', '#', whitespace or control characters")
		}
	}
}

// lifecycle checks lifecycleConfiguration: both members 60–28800 seconds, and the idle
// timeout no longer than the maximum lifetime, defaults included.
func (r fieldRules) lifecycle(l *LifecycleConfiguration) {
	const at = "lifecycleConfiguration"
	if l == nil {
		return
	}
	idle, maxLife := int64(defaultIdleSeconds), int64(defaultMaxLifetime)
	ok := true
	if l.IdleRuntimeSessionTimeout != nil {
		idle = int64(*l.IdleRuntimeSessionTimeout)
		ok = r.between(fieldMember(at, "idleRuntimeSessionTimeout"), idle, lifecycleMin, lifecycleMax)
	}
	if l.MaxLifetime != nil {
		maxLife = int64(*l.MaxLifetime)
		ok = r.between(fieldMember(at, "maxLifetime"), maxLife, lifecycleMin, lifecycleMax) && ok
	}
	if !ok || idle <= maxLife {
		return
	}
	if l.IdleRuntimeSessionTimeout != nil {
		r.f.Add(fieldMember(at, "idleRuntimeSessionTimeout"),
			"Member must have value less than or equal to maxLifetime (%d)", maxLife)
		return
	}
	r.f.Add(fieldMember(at, "maxLifetime"),
		"Member must have value greater than or equal to the default idleRuntimeSessionTimeout (%d)", idle)
}

// EffectiveProtocol returns the server protocol (default HTTP), port and path an agent
// listens on, with the defaults of AGENTCORE-WIRE.md §3.2 filled in: 8080 /invocations for
// HTTP and AGUI, 8000 /mcp for MCP, 9000 / for A2A.
func EffectiveProtocol(cfg RuntimeConfig) (protocol string, port int, path string) {
	protocol = protoHTTP
	p := cfg.ProtocolConfiguration
	if p != nil && p.ServerProtocol != "" {
		protocol = p.ServerProtocol
	}
	switch protocol {
	case protoMCP:
		port, path = 8000, "/mcp"
	case protoA2A:
		port, path = 9000, "/"
	default:
		port, path = 8080, "/invocations"
	}
	if p != nil && p.Port != nil {
		port = int(*p.Port)
	}
	if p != nil && p.Path != nil {
		path = *p.Path
	}
	return protocol, port, path
}

// EffectiveLifecycle returns a session's idle timeout and maximum lifetime, defaulting to
// 900 s and 28800 s.
func EffectiveLifecycle(cfg RuntimeConfig) (idle, maxLifetime time.Duration) {
	idleS, maxS := int32(defaultIdleSeconds), int32(defaultMaxLifetime)
	if l := cfg.LifecycleConfiguration; l != nil {
		if l.IdleRuntimeSessionTimeout != nil {
			idleS = *l.IdleRuntimeSessionTimeout
		}
		if l.MaxLifetime != nil {
			maxS = *l.MaxLifetime
		}
	}
	return time.Duration(idleS) * time.Second, time.Duration(maxS) * time.Second
}
