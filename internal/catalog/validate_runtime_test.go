package catalog

import (
	"strings"
	"testing"

	"berth.dev/berth/internal/errdefs"
)

const (
	vRolePattern   = "Member must satisfy regular expression pattern: ^arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+$"
	vHeaderField   = "requestHeaderConfiguration.requestHeaderAllowlist"
	vHeaderPattern = "Member must satisfy regular expression pattern: ^[A-Za-z][A-Za-z0-9_-]{0,255}$"
)

func vWithRole(arn string) func(*RuntimeConfig) {
	return func(c *RuntimeConfig) { c.RoleArn = arn }
}

func vWithHeaders(names []string) func(*RuntimeConfig) {
	return func(c *RuntimeConfig) {
		c.RequestHeaderConfiguration = &RequestHeaderConfiguration{RequestHeaderAllowlist: names}
	}
}

func vWithEnv(env map[string]string) func(*RuntimeConfig) {
	return func(c *RuntimeConfig) { c.EnvironmentVariables = env }
}

func TestValidateCreateRuntime_RoleAndDescription(t *testing.T) {
	vRunCreateCases(t, vMinimalConfig, []vCase{
		{"gov partition", vWithRole("arn:aws-us-gov:iam::123456789012:role/a/b"), nil},
		{"no account", vWithRole("arn:aws:iam:::role/R"), nil},
		{"role missing", vWithRole(""), []errdefs.FieldError{vFE("roleArn", msgNotNull)}},
		{"not a role", vWithRole("arn:aws:iam::123456789012:user/u"), []errdefs.FieldError{vFE("roleArn", vRolePattern)}},
		{"short account", vWithRole("arn:aws:iam::12345:role/R"), []errdefs.FieldError{vFE("roleArn", vRolePattern)}},
		{"other service", vWithRole("arn:aws:sts::123456789012:role/R"), []errdefs.FieldError{vFE("roleArn", vRolePattern)}},
		{"empty role name", vWithRole("arn:aws:iam::123456789012:role/"), []errdefs.FieldError{vFE("roleArn", vRolePattern)}},
		{"role 2049", vWithRole("arn:aws:iam::123456789012:role/" + strings.Repeat("r", 2049-31)),
			[]errdefs.FieldError{vFE("roleArn", "Member must have length less than or equal to 2048")}},
		{"role 2048", vWithRole("arn:aws:iam::123456789012:role/" + strings.Repeat("r", 2048-31)), nil},
		{"description 4096 runes", func(c *RuntimeConfig) { c.Description = new(strings.Repeat("ß", 4096)) }, nil},
		{"description empty", func(c *RuntimeConfig) { c.Description = new("") },
			[]errdefs.FieldError{vFE("description", "Member must have length greater than or equal to 1")}},
		{"description 4097", func(c *RuntimeConfig) { c.Description = new(strings.Repeat("d", 4097)) },
			[]errdefs.FieldError{vFE("description", "Member must have length less than or equal to 4096")}},
		{"platform V1", func(c *RuntimeConfig) { c.PlatformVersion = "V1" }, nil},
		{"platform V3", func(c *RuntimeConfig) { c.PlatformVersion = "V3" },
			[]errdefs.FieldError{vFE("platformVersion", "Member must be one of [V1, V2]")}},
		{"metadata on create", func(c *RuntimeConfig) { c.MetadataConfiguration = &MetadataConfiguration{} },
			[]errdefs.FieldError{vFE("metadataConfiguration", "Member must be null on create")}},
	})
}

func TestValidateCreateRuntime_RequestHeaders(t *testing.T) {
	twenty := make([]string, 20)
	for i := range twenty {
		twenty[i] = "X-H" + strings.Repeat("h", i)
	}
	vRunCreateCases(t, vMinimalConfig, []vCase{
		{"twenty", vWithHeaders(twenty), nil},
		{"longest name", vWithHeaders([]string{"A" + strings.Repeat("a_-", 85)}), nil},
		{"union empty", func(c *RuntimeConfig) { c.RequestHeaderConfiguration = &RequestHeaderConfiguration{} },
			[]errdefs.FieldError{vFE("requestHeaderConfiguration", "Member must have exactly one of [requestHeaderAllowlist] set, but none was set")}},
		{"empty list", vWithHeaders([]string{}),
			[]errdefs.FieldError{vFE(vHeaderField, "Member must have length greater than or equal to 1")}},
		{"twenty one", vWithHeaders(append(twenty, "X-Last")),
			[]errdefs.FieldError{vFE(vHeaderField, "Member must have length less than or equal to 20")}},
		{"bad names", vWithHeaders([]string{"X-Tenant", "", "1X", "X Y", "A" + strings.Repeat("a", 256)}),
			[]errdefs.FieldError{
				vFE(vHeaderField+"[1]", "Member must have length greater than or equal to 1"),
				vFE(vHeaderField+"[1]", vHeaderPattern),
				vFE(vHeaderField+"[2]", vHeaderPattern),
				vFE(vHeaderField+"[3]", vHeaderPattern),
				vFE(vHeaderField+"[4]", "Member must have length less than or equal to 256"),
				vFE(vHeaderField+"[4]", vHeaderPattern),
			}},
		{"restricted names (AGENTCORE-WIRE.md §4.7)", vWithHeaders([]string{
			"Authorization", "X-Amz-Security-Token", "X-Amzn-Bedrock-AgentCore-Runtime-Request-Id",
			"Connection", "Upgrade", "Host", "Cookie", "X-Forwarded-For", "Sec-WebSocket-Key",
			"X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant", "X-Team",
		}),
			[]errdefs.FieldError{
				vFE(vHeaderField+"[0]", "Header Authorization cannot be allow-listed: Authorization can be forwarded only by runtimes with a customJWTAuthorizer"),
				vFE(vHeaderField+"[1]", "Header X-Amz-Security-Token cannot be allow-listed: headers starting with x-amz- are restricted and never forwarded"),
				vFE(vHeaderField+"[2]", "Header X-Amzn-Bedrock-AgentCore-Runtime-Request-Id cannot be allow-listed: names starting with X-Amzn- are reserved (except X-Amzn-Bedrock-AgentCore-Runtime-Custom-*)"),
				vFE(vHeaderField+"[3]", "Header Connection cannot be allow-listed: this header is restricted and is never forwarded"),
				vFE(vHeaderField+"[4]", "Header Upgrade cannot be allow-listed: this header is restricted and is never forwarded"),
				vFE(vHeaderField+"[5]", "Header Host cannot be allow-listed: this header is restricted and is never forwarded"),
				vFE(vHeaderField+"[6]", "Header Cookie cannot be allow-listed: this header is restricted and is never forwarded"),
				vFE(vHeaderField+"[7]", "Header X-Forwarded-For cannot be allow-listed: headers starting with x-forwarded- are restricted and never forwarded"),
				vFE(vHeaderField+"[8]", "Header Sec-WebSocket-Key cannot be allow-listed: headers starting with sec-websocket- are restricted and never forwarded"),
			}},
	})
}

func TestForwardableHeader_AuthorizationNeedsJWT(t *testing.T) {
	if ok, _ := ForwardableHeader("authorization", true); !ok {
		t.Error("Authorization refused for a JWT runtime")
	}
	if ok, _ := ForwardableHeader("Authorization", false); ok {
		t.Error("Authorization allowed without a JWT authorizer")
	}
}

func TestValidateCreateRuntime_Environment(t *testing.T) {
	many := func(n int) map[string]string {
		m := make(map[string]string, n)
		for i := range n {
			m["K"+strings.Repeat("x", i)] = "v"
		}
		return m
	}
	vRunCreateCases(t, vMinimalConfig, []vCase{
		{"fifty", vWithEnv(many(50)), nil},
		{"bounds", vWithEnv(map[string]string{strings.Repeat("k", 100): strings.Repeat("ω", 5000), "E": ""}), nil},
		{"fifty one", vWithEnv(many(51)),
			[]errdefs.FieldError{vFE("environmentVariables", "Member must have length less than or equal to 50")}},
		{"empty key", vWithEnv(map[string]string{"": "v"}),
			[]errdefs.FieldError{vFE("environmentVariables[]", "Map key must have length greater than or equal to 1")}},
		{"key 101", vWithEnv(map[string]string{strings.Repeat("k", 101): "v"}),
			[]errdefs.FieldError{vFE("environmentVariables["+strings.Repeat("k", 101)+"]", "Map key must have length less than or equal to 100")}},
		{"value 5001", vWithEnv(map[string]string{"FOO": strings.Repeat("v", 5001)}),
			[]errdefs.FieldError{vFE("environmentVariables[FOO]", "Member must have length less than or equal to 5000")}},
		{"key with equals", vWithEnv(map[string]string{"A=B": "v"}),
			[]errdefs.FieldError{vFE("environmentVariables[A=B]", "Map key must not contain '=' or NUL")}},
		{"NUL", vWithEnv(map[string]string{"A\x00": "v", "B": "x\x00y"}), []errdefs.FieldError{
			vFE("environmentVariables[A\x00]", "Map key must not contain '=' or NUL"),
			vFE("environmentVariables[B]", "Member must not contain NUL"),
		}},
	})
}
