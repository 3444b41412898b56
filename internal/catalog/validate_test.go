package catalog

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"berth.dev/berth/internal/errdefs"
)

// vMinimalConfig is the smallest valid RuntimeConfig: an image, a role and PUBLIC networking.
func vMinimalConfig() RuntimeConfig {
	return RuntimeConfig{
		AgentRuntimeArtifact: &Artifact{ContainerConfiguration: &ContainerConfiguration{
			ContainerURI: "123456789012.dkr.ecr.us-west-2.amazonaws.com/repo:tag",
		}},
		RoleArn:              "arn:aws:iam::123456789012:role/AgentRole",
		NetworkConfiguration: &NetworkConfiguration{NetworkMode: "PUBLIC"},
	}
}

// vFullConfig sets every member a create accepts, each to a valid value.
func vFullConfig() RuntimeConfig {
	cfg := vMinimalConfig()
	cfg.AgentRuntimeArtifact = &Artifact{CodeConfiguration: &CodeConfiguration{
		Code: &Code{S3: &S3Location{
			Bucket: "my-bucket.v2", Prefix: "my_agent/deployment.zip", VersionID: new("3HL4kqtJlcpXroDTDmJ"),
		}},
		Runtime:    "PYTHON_3_12",
		EntryPoint: []string{"opentelemetry-instrument", "main.py"},
	}}
	cfg.NetworkConfiguration = &NetworkConfiguration{NetworkMode: "VPC", NetworkModeConfig: &NetworkModeConfig{
		SecurityGroups: []string{"sg-0123456789abcdef0"},
		Subnets:        []string{"subnet-0123abcd", "subnet-4567efgh"},
	}}
	cfg.Description = new("an agent ✓")
	cfg.AuthorizerConfiguration = &AuthorizerConfiguration{CustomJWTAuthorizer: vJWT()}
	cfg.RequestHeaderConfiguration = &RequestHeaderConfiguration{
		RequestHeaderAllowlist: []string{"Authorization", "X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant"},
	}
	cfg.ProtocolConfiguration = &ProtocolConfiguration{ServerProtocol: "MCP", Port: new(int32(8000)), Path: new("/mcp")}
	cfg.LifecycleConfiguration = &LifecycleConfiguration{
		IdleRuntimeSessionTimeout: new(int32(900)), MaxLifetime: new(int32(28800)),
	}
	cfg.EnvironmentVariables = map[string]string{"LOG_LEVEL": "debug", "EMPTY": ""}
	cfg.FilesystemConfigurations = []FilesystemConfiguration{
		{SessionStorage: &SessionStorage{MountPath: "/mnt/data"}},
		{EfsAccessPoint: &AccessPoint{AccessPointArn: "arn:aws:elasticfilesystem:us-west-2:123456789012:access-point/fsap-1", MountPath: "/mnt/efs/"}},
		{S3FilesAccessPoint: &AccessPoint{AccessPointArn: "arn:aws:s3:us-west-2:123456789012:accesspoint/ap", MountPath: "/mnt/s3.files"}},
	}
	cfg.PlatformVersion = "V2"
	cfg.AllowedPorts = []AllowedPort{{Port: new(int32(8081))}, {PortRange: &PortRange{From: 9100, To: 9110}}}
	return cfg
}

// vJWT is a custom JWT authorizer with every member set.
func vJWT() *CustomJWTAuthorizer {
	return &CustomJWTAuthorizer{
		DiscoveryURL:           "https://idp.example.com/realms/a/.well-known/openid-configuration",
		AllowedAudience:        []string{"api://agent"},
		AllowedClients:         []string{"client-1"},
		AllowedScopes:          []string{"agent:invoke", "openid"},
		AdvertisedScopeMapping: map[string]string{"agent:invoke": "api://agent/invoke"},
		CustomClaims: []CustomClaim{
			{
				InboundTokenClaimName: "department", InboundTokenClaimValueType: "STRING",
				AuthorizingClaimMatchValue: &ClaimMatchValueRule{
					ClaimMatchOperator: "EQUALS", ClaimMatchValue: &ClaimMatchValue{MatchValueString: new("eng")},
				},
			},
			{
				InboundTokenClaimName: "cognito:groups", InboundTokenClaimValueType: "STRING_ARRAY",
				AuthorizingClaimMatchValue: &ClaimMatchValueRule{
					ClaimMatchOperator: "CONTAINS_ANY", ClaimMatchValue: &ClaimMatchValue{MatchValueStringList: []string{"a", "b"}},
				},
			},
		},
	}
}

// vFieldErrors returns the field errors of err, failing the test unless err is nil or a
// FieldValidationFailed *errdefs.ValidationError that matches ErrInvalidArgument.
func vFieldErrors(t *testing.T, err error) []errdefs.FieldError {
	t.Helper()
	if err == nil {
		return nil
	}
	ve, ok := errors.AsType[*errdefs.ValidationError](err)
	if !ok {
		t.Fatalf("error %v (%T) is not an *errdefs.ValidationError", err, err)
	}
	if ve.Reason != errdefs.ReasonFieldValidationFailed {
		t.Errorf("reason = %q, want %q", ve.Reason, errdefs.ReasonFieldValidationFailed)
	}
	if !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("error does not match errdefs.ErrInvalidArgument")
	}
	if len(ve.Fields) == 0 {
		t.Errorf("validation error without fields")
	}
	return ve.Fields
}

// vFE builds an expected field error.
func vFE(name, msg string) errdefs.FieldError { return errdefs.FieldError{Name: name, Message: msg} }

// vCase mutates a valid configuration and expects exactly the listed violations
// (none: the configuration must pass).
type vCase struct {
	name   string
	mutate func(*RuntimeConfig)
	want   []errdefs.FieldError
}

// vRunCreateCases validates each case's configuration as a CreateAgentRuntime body.
func vRunCreateCases(t *testing.T, base func() RuntimeConfig, cases []vCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base()
			tc.mutate(&cfg)
			got := vFieldErrors(t, ValidateCreateRuntime("my_agent", cfg, nil, nil))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("field errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateCreateRuntime_FullValid(t *testing.T) {
	tags := map[string]string{"team": "agents", "cost center": "a/b=c+d@e:f", "empty": ""}
	for name, cfg := range map[string]RuntimeConfig{"minimal": vMinimalConfig(), "full": vFullConfig()} {
		t.Run(name, func(t *testing.T) {
			if err := ValidateCreateRuntime("my_agent_1", cfg, tags, new("a0b1c2d3-e4f5-6789-abcd-ef0123456789")); err != nil {
				t.Fatalf("valid create rejected: %v", err)
			}
			cfg.MetadataConfiguration = &MetadataConfiguration{RequireMMDSV2: new(true)}
			if err := ValidateUpdateRuntime(cfg, nil); err != nil {
				t.Fatalf("valid update rejected: %v", err)
			}
		})
	}
}

func TestValidateCreateRuntime_ReportsEveryViolation(t *testing.T) {
	cfg := RuntimeConfig{
		AgentRuntimeArtifact: &Artifact{CodeConfiguration: &CodeConfiguration{
			Code: &Code{S3: &S3Location{Bucket: "B", Prefix: "k.zip"}}, Runtime: "PYTHON_2_7", EntryPoint: []string{"main.py"},
		}},
		NetworkConfiguration:   &NetworkConfiguration{NetworkMode: "PUBLIC"},
		LifecycleConfiguration: &LifecycleConfiguration{IdleRuntimeSessionTimeout: new(int32(30))},
		EnvironmentVariables:   map[string]string{"FOO": strings.Repeat("x", 5001)},
	}
	err := ValidateCreateRuntime("my-agent", cfg, map[string]string{"k": "v!"}, new("short"))
	want := []errdefs.FieldError{
		vFE("agentRuntimeName", "Member must satisfy regular expression pattern: ^[a-zA-Z][a-zA-Z0-9_]{0,47}$"),
		vFE("agentRuntimeArtifact.codeConfiguration.code.s3.bucket", `Member must satisfy regular expression pattern: ^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`),
		vFE("agentRuntimeArtifact.codeConfiguration.runtime", "Member must be one of [PYTHON_3_10, PYTHON_3_11, PYTHON_3_12, PYTHON_3_13, PYTHON_3_14, NODE_18, NODE_20, NODE_22]"),
		vFE("roleArn", "Member must not be null"),
		vFE("lifecycleConfiguration.idleRuntimeSessionTimeout", "Member must have value between 60 and 28800"),
		vFE("environmentVariables[FOO]", "Member must have length less than or equal to 5000"),
		vFE("tags[k]", `Member must satisfy regular expression pattern: ^[a-zA-Z0-9\s._:/=+@-]*$`),
		vFE("clientToken", "Member must have length greater than or equal to 33"),
	}
	if diff := cmp.Diff(want, vFieldErrors(t, err)); diff != "" {
		t.Errorf("field errors (-want +got):\n%s", diff)
	}
	wantMsg := "8 validation errors detected: Value at 'agentRuntimeName' failed to satisfy constraint: Member must satisfy"
	if !strings.HasPrefix(err.Error(), wantMsg) {
		t.Errorf("message %q does not start with %q", err.Error(), wantMsg)
	}
}

func TestValidateCreateRuntime_RequiredMembers(t *testing.T) {
	err := ValidateCreateRuntime("", RuntimeConfig{}, nil, nil)
	want := []errdefs.FieldError{
		vFE("agentRuntimeName", msgNotNull),
		vFE("agentRuntimeArtifact", msgNotNull),
		vFE("roleArn", msgNotNull),
		vFE("networkConfiguration", msgNotNull),
	}
	if diff := cmp.Diff(want, vFieldErrors(t, err)); diff != "" {
		t.Errorf("field errors (-want +got):\n%s", diff)
	}
}

func TestValidateUpdateRuntime_OnlyOnUpdate(t *testing.T) {
	cfg := vFullConfig()
	cfg.MetadataConfiguration = &MetadataConfiguration{RequireMMDSV2: new(false)}
	cfg.NetworkConfiguration.NetworkModeConfig.RequireServiceS3Endpoint = new(true)
	if err := ValidateUpdateRuntime(cfg, new(strings.Repeat("a", 33))); err != nil {
		t.Fatalf("update rejected: %v", err)
	}
	want := []errdefs.FieldError{
		vFE("networkConfiguration.networkModeConfig.requireServiceS3Endpoint", "Member must be null on create"),
		vFE("metadataConfiguration", "Member must be null on create"),
	}
	got := vFieldErrors(t, ValidateCreateRuntime("a", cfg, nil, nil))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("create: field errors (-want +got):\n%s", diff)
	}
}

func TestValidateUpdateRuntime_FullReplacement(t *testing.T) {
	err := ValidateUpdateRuntime(RuntimeConfig{Description: new("")}, new("bad token!"))
	want := []errdefs.FieldError{
		vFE("agentRuntimeArtifact", msgNotNull),
		vFE("roleArn", msgNotNull),
		vFE("networkConfiguration", msgNotNull),
		vFE("description", "Member must have length greater than or equal to 1"),
		vFE("clientToken", "Member must have length greater than or equal to 33"),
		vFE("clientToken", "Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,256}$"),
	}
	if diff := cmp.Diff(want, vFieldErrors(t, err)); diff != "" {
		t.Errorf("field errors (-want +got):\n%s", diff)
	}
}
