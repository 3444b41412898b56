package catalog

import (
	"strings"
	"testing"

	"berth.dev/berth/internal/errdefs"
)

const (
	vArtifactUnion = "Member must have exactly one of [containerConfiguration, codeConfiguration] set"
	vOCIMessage    = "Member must be a valid OCI image reference ([registry/]repository[:tag][@digest])"
	vURIField      = "agentRuntimeArtifact.containerConfiguration.containerUri"
	vCodeField     = "agentRuntimeArtifact.codeConfiguration"
	vDigest        = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)

func vWithURI(uri string) func(*RuntimeConfig) {
	return func(c *RuntimeConfig) { c.AgentRuntimeArtifact.ContainerConfiguration.ContainerURI = uri }
}

// vWithCode replaces the artifact by a valid code configuration, then applies edit to it.
func vWithCode(edit func(*CodeConfiguration)) func(*RuntimeConfig) {
	return func(c *RuntimeConfig) {
		cc := &CodeConfiguration{
			Code:       &Code{S3: &S3Location{Bucket: "bucket", Prefix: "agent.zip"}},
			Runtime:    "PYTHON_3_13",
			EntryPoint: []string{"main.py"},
		}
		edit(cc)
		c.AgentRuntimeArtifact = &Artifact{CodeConfiguration: cc}
	}
}

func TestValidateCreateRuntime_Artifact(t *testing.T) {
	noop := func(*CodeConfiguration) {}
	vRunCreateCases(t, vMinimalConfig, []vCase{
		// union
		{"container only", func(*RuntimeConfig) {}, nil},
		{"code only", vWithCode(noop), nil},
		{"missing", func(c *RuntimeConfig) { c.AgentRuntimeArtifact = nil },
			[]errdefs.FieldError{vFE("agentRuntimeArtifact", msgNotNull)}},
		{"no member", func(c *RuntimeConfig) { c.AgentRuntimeArtifact = &Artifact{} },
			[]errdefs.FieldError{vFE("agentRuntimeArtifact", vArtifactUnion+", but none was set")}},
		{"two members", func(c *RuntimeConfig) {
			vWithCode(noop)(c)
			c.AgentRuntimeArtifact.ContainerConfiguration = &ContainerConfiguration{ContainerURI: "nginx"}
		}, []errdefs.FieldError{vFE("agentRuntimeArtifact",
			vArtifactUnion+", but 2 were set: containerConfiguration, codeConfiguration")}},
		// containerUri: any OCI reference
		{"docker hub short", vWithURI("ubuntu"), nil},
		{"docker hub tag", vWithURI("library/python:3.12-slim"), nil},
		{"ghcr", vWithURI("ghcr.io/acme/agent:v1.2.3"), nil},
		{"registry port", vWithURI("localhost:5000/agent"), nil},
		{"digest", vWithURI("registry.example.com/team/agent@" + vDigest), nil},
		{"tag and digest", vWithURI("public.ecr.aws/acme/agent:v1@" + vDigest), nil},
		{"uri 1024", vWithURI(strings.Repeat("r", 700) + ".io/" + strings.Repeat("a", 200) + ":" + strings.Repeat("t", 119)), nil},
		{"uri 1025", vWithURI(strings.Repeat("r", 701) + ".io/" + strings.Repeat("a", 200) + ":" + strings.Repeat("t", 119)),
			[]errdefs.FieldError{vFE(vURIField, "Member must have length less than or equal to 1024")}},
		{"uri empty", vWithURI(""), []errdefs.FieldError{vFE(vURIField, msgNotNull)}},
		{"uri too long", vWithURI("r.io/" + strings.Repeat("a", 1020)), []errdefs.FieldError{
			vFE(vURIField, "Member must have length less than or equal to 1024"),
			vFE(vURIField, vOCIMessage),
		}},
		{"uri upper case repo", vWithURI("ghcr.io/Acme/agent"), []errdefs.FieldError{vFE(vURIField, vOCIMessage)}},
		{"uri scheme", vWithURI("https://ghcr.io/acme/agent"), []errdefs.FieldError{vFE(vURIField, vOCIMessage)}},
		{"uri bad tag", vWithURI("ghcr.io/acme/agent:v1!"), []errdefs.FieldError{vFE(vURIField, vOCIMessage)}},
		{"uri bad digest", vWithURI("ghcr.io/acme/agent@sha256:abc"), []errdefs.FieldError{vFE(vURIField, vOCIMessage)}},
		{"uri space", vWithURI("ghcr.io/acme/agent latest"), []errdefs.FieldError{vFE(vURIField, vOCIMessage)}},
		// codeConfiguration.code
		{"code missing", vWithCode(func(c *CodeConfiguration) { c.Code = nil }),
			[]errdefs.FieldError{vFE(vCodeField+".code", msgNotNull)}},
		{"code no s3", vWithCode(func(c *CodeConfiguration) { c.Code.S3 = nil }),
			[]errdefs.FieldError{vFE(vCodeField+".code", "Member must have exactly one of [s3] set, but none was set")}},
		{"bucket shortest and dotted", vWithCode(func(c *CodeConfiguration) { c.Code.S3.Bucket = "a.b" }), nil},
		{"bucket 63", vWithCode(func(c *CodeConfiguration) { c.Code.S3.Bucket = strings.Repeat("b", 63) }), nil},
		{"bucket empty", vWithCode(func(c *CodeConfiguration) { c.Code.S3.Bucket = "" }),
			[]errdefs.FieldError{vFE(vCodeField+".code.s3.bucket", msgNotNull)}},
		{"bucket 64", vWithCode(func(c *CodeConfiguration) { c.Code.S3.Bucket = strings.Repeat("b", 64) }),
			[]errdefs.FieldError{vFE(vCodeField+".code.s3.bucket", "Member must satisfy regular expression pattern: ^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")}},
		{"bucket upper", vWithCode(func(c *CodeConfiguration) { c.Code.S3.Bucket = "Bucket" }),
			[]errdefs.FieldError{vFE(vCodeField+".code.s3.bucket", "Member must satisfy regular expression pattern: ^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")}},
		{"bucket trailing dash", vWithCode(func(c *CodeConfiguration) { c.Code.S3.Bucket = "bucket-" }),
			[]errdefs.FieldError{vFE(vCodeField+".code.s3.bucket", "Member must satisfy regular expression pattern: ^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")}},
		{"prefix 1024", vWithCode(func(c *CodeConfiguration) { c.Code.S3.Prefix = strings.Repeat("p", 1024) }), nil},
		{"prefix empty", vWithCode(func(c *CodeConfiguration) { c.Code.S3.Prefix = "" }),
			[]errdefs.FieldError{vFE(vCodeField+".code.s3.prefix", msgNotNull)}},
		{"prefix 1025 runes", vWithCode(func(c *CodeConfiguration) { c.Code.S3.Prefix = strings.Repeat("ü", 1025) }),
			[]errdefs.FieldError{vFE(vCodeField+".code.s3.prefix", "Member must have length less than or equal to 1024")}},
		{"prefix 1024 runes of 2 bytes", vWithCode(func(c *CodeConfiguration) { c.Code.S3.Prefix = strings.Repeat("ü", 1024) }), nil},
		{"versionId 3", vWithCode(func(c *CodeConfiguration) { c.Code.S3.VersionID = new("abc") }), nil},
		{"versionId 2", vWithCode(func(c *CodeConfiguration) { c.Code.S3.VersionID = new("ab") }),
			[]errdefs.FieldError{vFE(vCodeField+".code.s3.versionId", "Member must have length greater than or equal to 3")}},
		{"versionId 1025", vWithCode(func(c *CodeConfiguration) { c.Code.S3.VersionID = new(strings.Repeat("v", 1025)) }),
			[]errdefs.FieldError{vFE(vCodeField+".code.s3.versionId", "Member must have length less than or equal to 1024")}},
		// runtime
		{"runtime node 18", vWithCode(func(c *CodeConfiguration) { c.Runtime = "NODE_18" }), nil},
		{"runtime python 3.14", vWithCode(func(c *CodeConfiguration) { c.Runtime = "PYTHON_3_14" }), nil},
		{"runtime missing", vWithCode(func(c *CodeConfiguration) { c.Runtime = "" }),
			[]errdefs.FieldError{vFE(vCodeField+".runtime", msgNotNull)}},
		{"runtime unknown", vWithCode(func(c *CodeConfiguration) { c.Runtime = "python_3_12" }),
			[]errdefs.FieldError{vFE(vCodeField+".runtime", "Member must be one of [PYTHON_3_10, PYTHON_3_11, PYTHON_3_12, PYTHON_3_13, PYTHON_3_14, NODE_18, NODE_20, NODE_22]")}},
		// entryPoint
		{"entryPoint two", vWithCode(func(c *CodeConfiguration) { c.EntryPoint = []string{"opentelemetry-instrument", "main.py"} }), nil},
		{"entryPoint 128", vWithCode(func(c *CodeConfiguration) { c.EntryPoint = []string{strings.Repeat("e", 128)} }), nil},
		{"entryPoint missing", vWithCode(func(c *CodeConfiguration) { c.EntryPoint = nil }),
			[]errdefs.FieldError{vFE(vCodeField+".entryPoint", msgNotNull)}},
		{"entryPoint empty list", vWithCode(func(c *CodeConfiguration) { c.EntryPoint = []string{} }),
			[]errdefs.FieldError{vFE(vCodeField+".entryPoint", "Member must have length greater than or equal to 1")}},
		{"entryPoint three", vWithCode(func(c *CodeConfiguration) { c.EntryPoint = []string{"a", "b", "c"} }),
			[]errdefs.FieldError{vFE(vCodeField+".entryPoint", "Member must have length less than or equal to 2")}},
		{"entryPoint items", vWithCode(func(c *CodeConfiguration) { c.EntryPoint = []string{"", strings.Repeat("e", 129)} }),
			[]errdefs.FieldError{
				vFE(vCodeField+".entryPoint[0]", "Member must have length greater than or equal to 1"),
				vFE(vCodeField+".entryPoint[1]", "Member must have length less than or equal to 128"),
			}},
	})
}
