package catalog

import (
	"strings"
	"testing"
	"time"

	"berth.dev/berth/internal/errdefs"
)

const (
	vProtoField = "protocolConfiguration"
	vLifeField  = "lifecycleConfiguration"
	vPathChars  = "Member must not contain '?', '#', whitespace or control characters"
)

func vWithProtocol(p ProtocolConfiguration) func(*RuntimeConfig) {
	return func(c *RuntimeConfig) { c.ProtocolConfiguration = &p }
}

func vWithLifecycle(idle, maxLife *int32) func(*RuntimeConfig) {
	return func(c *RuntimeConfig) {
		c.LifecycleConfiguration = &LifecycleConfiguration{IdleRuntimeSessionTimeout: idle, MaxLifetime: maxLife}
	}
}

func TestValidateCreateRuntime_Protocol(t *testing.T) {
	port := func(p int32) *int32 { return &p }
	const portRange = "Member must have value between 8000 and 12000"
	vRunCreateCases(t, vMinimalConfig, []vCase{
		{"HTTP", vWithProtocol(ProtocolConfiguration{ServerProtocol: "HTTP"}), nil},
		{"MCP", vWithProtocol(ProtocolConfiguration{ServerProtocol: "MCP"}), nil},
		{"A2A", vWithProtocol(ProtocolConfiguration{ServerProtocol: "A2A", Path: new("/")}), nil},
		{"AGUI bounds", vWithProtocol(ProtocolConfiguration{ServerProtocol: "AGUI", Port: port(12000), Path: new("/" + strings.Repeat("p", 1023))}), nil},
		{"port 8000", vWithProtocol(ProtocolConfiguration{ServerProtocol: "HTTP", Port: port(8000)}), nil},
		{"protocol missing", vWithProtocol(ProtocolConfiguration{}),
			[]errdefs.FieldError{vFE(vProtoField+".serverProtocol", msgNotNull)}},
		{"protocol unknown", vWithProtocol(ProtocolConfiguration{ServerProtocol: "GRPC"}),
			[]errdefs.FieldError{vFE(vProtoField+".serverProtocol", "Member must be one of [HTTP, MCP, A2A, AGUI]")}},
		{"port 7999", vWithProtocol(ProtocolConfiguration{ServerProtocol: "HTTP", Port: port(7999)}),
			[]errdefs.FieldError{vFE(vProtoField+".port", portRange)}},
		{"port 12001", vWithProtocol(ProtocolConfiguration{ServerProtocol: "HTTP", Port: port(12001)}),
			[]errdefs.FieldError{vFE(vProtoField+".port", portRange)}},
		{"port 8443", vWithProtocol(ProtocolConfiguration{ServerProtocol: "HTTP", Port: port(8443)}),
			[]errdefs.FieldError{vFE(vProtoField+".port", "Member must not be 8443")}},
		{"path relative", vWithProtocol(ProtocolConfiguration{ServerProtocol: "HTTP", Path: new("invocations")}),
			[]errdefs.FieldError{vFE(vProtoField+".path", "Member must start with /")}},
		{"path empty", vWithProtocol(ProtocolConfiguration{ServerProtocol: "HTTP", Path: new("")}),
			[]errdefs.FieldError{vFE(vProtoField+".path", "Member must have length greater than or equal to 1")}},
		{"path 1025", vWithProtocol(ProtocolConfiguration{ServerProtocol: "HTTP", Path: new("/" + strings.Repeat("p", 1024))}),
			[]errdefs.FieldError{vFE(vProtoField+".path", "Member must have length less than or equal to 1024")}},
		{"path query", vWithProtocol(ProtocolConfiguration{ServerProtocol: "HTTP", Path: new("/a?b=c")}),
			[]errdefs.FieldError{vFE(vProtoField+".path", vPathChars)}},
		{"path space", vWithProtocol(ProtocolConfiguration{ServerProtocol: "HTTP", Path: new("/a b")}),
			[]errdefs.FieldError{vFE(vProtoField+".path", vPathChars)}},
		{"everything wrong", vWithProtocol(ProtocolConfiguration{ServerProtocol: "SOAP", Port: port(80), Path: new("x#")}),
			[]errdefs.FieldError{
				vFE(vProtoField+".serverProtocol", "Member must be one of [HTTP, MCP, A2A, AGUI]"),
				vFE(vProtoField+".port", portRange),
				vFE(vProtoField+".path", "Member must start with /"),
				vFE(vProtoField+".path", vPathChars),
			}},
	})
}

func TestValidateCreateRuntime_Lifecycle(t *testing.T) {
	s := func(v int32) *int32 { return &v }
	const between = "Member must have value between 60 and 28800"
	vRunCreateCases(t, vMinimalConfig, []vCase{
		{"empty", vWithLifecycle(nil, nil), nil},
		{"bounds", vWithLifecycle(s(60), s(28800)), nil},
		{"equal", vWithLifecycle(s(600), s(600)), nil},
		{"idle only", vWithLifecycle(s(28800), nil), nil},
		{"max only at default idle", vWithLifecycle(nil, s(900)), nil},
		{"idle 59", vWithLifecycle(s(59), nil),
			[]errdefs.FieldError{vFE(vLifeField+".idleRuntimeSessionTimeout", between)}},
		{"idle 28801", vWithLifecycle(s(28801), nil),
			[]errdefs.FieldError{vFE(vLifeField+".idleRuntimeSessionTimeout", between)}},
		{"max 59", vWithLifecycle(nil, s(59)),
			[]errdefs.FieldError{vFE(vLifeField+".maxLifetime", between)}},
		{"max 28801", vWithLifecycle(s(60), s(28801)),
			[]errdefs.FieldError{vFE(vLifeField+".maxLifetime", between)}},
		{"idle above max", vWithLifecycle(s(1200), s(600)),
			[]errdefs.FieldError{vFE(vLifeField+".idleRuntimeSessionTimeout", "Member must have value less than or equal to maxLifetime (600)")}},
		{"max below default idle", vWithLifecycle(nil, s(600)),
			[]errdefs.FieldError{vFE(vLifeField+".maxLifetime", "Member must have value greater than or equal to the default idleRuntimeSessionTimeout (900)")}},
		{"both out of range", vWithLifecycle(s(-1), s(0)), []errdefs.FieldError{
			vFE(vLifeField+".idleRuntimeSessionTimeout", between),
			vFE(vLifeField+".maxLifetime", between),
		}},
	})
}

func TestEffectiveProtocol_Defaults(t *testing.T) {
	cases := []struct {
		name     string
		pc       *ProtocolConfiguration
		protocol string
		port     int
		path     string
	}{
		{"absent", nil, "HTTP", 8080, "/invocations"},
		{"empty protocol", &ProtocolConfiguration{}, "HTTP", 8080, "/invocations"},
		{"HTTP", &ProtocolConfiguration{ServerProtocol: "HTTP"}, "HTTP", 8080, "/invocations"},
		{"AGUI", &ProtocolConfiguration{ServerProtocol: "AGUI"}, "AGUI", 8080, "/invocations"},
		{"MCP", &ProtocolConfiguration{ServerProtocol: "MCP"}, "MCP", 8000, "/mcp"},
		{"A2A", &ProtocolConfiguration{ServerProtocol: "A2A"}, "A2A", 9000, "/"},
		{"port override", &ProtocolConfiguration{ServerProtocol: "MCP", Port: new(int32(9001))}, "MCP", 9001, "/mcp"},
		{"path override", &ProtocolConfiguration{ServerProtocol: "A2A", Path: new("/a2a")}, "A2A", 9000, "/a2a"},
		{"both overrides", &ProtocolConfiguration{Port: new(int32(8001)), Path: new("/x")}, "HTTP", 8001, "/x"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			protocol, port, path := EffectiveProtocol(RuntimeConfig{ProtocolConfiguration: tc.pc})
			if protocol != tc.protocol || port != tc.port || path != tc.path {
				t.Errorf("EffectiveProtocol = %q, %d, %q; want %q, %d, %q",
					protocol, port, path, tc.protocol, tc.port, tc.path)
			}
		})
	}
}

func TestEffectiveLifecycle_Defaults(t *testing.T) {
	cases := []struct {
		name          string
		lc            *LifecycleConfiguration
		idle, maxLife time.Duration
	}{
		{"absent", nil, 15 * time.Minute, 8 * time.Hour},
		{"empty", &LifecycleConfiguration{}, 15 * time.Minute, 8 * time.Hour},
		{"idle set", &LifecycleConfiguration{IdleRuntimeSessionTimeout: new(int32(60))}, time.Minute, 8 * time.Hour},
		{"max set", &LifecycleConfiguration{MaxLifetime: new(int32(3600))}, 15 * time.Minute, time.Hour},
		{"both set", &LifecycleConfiguration{IdleRuntimeSessionTimeout: new(int32(120)), MaxLifetime: new(int32(28800))},
			2 * time.Minute, 8 * time.Hour},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			idle, maxLife := EffectiveLifecycle(RuntimeConfig{LifecycleConfiguration: tc.lc})
			if idle != tc.idle || maxLife != tc.maxLife {
				t.Errorf("EffectiveLifecycle = %v, %v; want %v, %v", idle, maxLife, tc.idle, tc.maxLife)
			}
		})
	}
}
