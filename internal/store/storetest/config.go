package storetest

import (
	"github.com/google/go-cmp/cmp/cmpopts"

	"berth.dev/berth/internal/catalog"
)

// equateEmpty treats nil and empty slices and maps as equal, for list results.
var equateEmpty = cmpopts.EquateEmpty()

// fullConfig sets every member of RuntimeConfig, including pointers to zero values
// (false, 0, ""), which must come back as non-nil pointers. Collections are non-empty:
// encoding/json omits empty ones, so they could not round-trip as non-nil.
func fullConfig() catalog.RuntimeConfig {
	return catalog.RuntimeConfig{
		AgentRuntimeArtifact: &catalog.Artifact{
			ContainerConfiguration: &catalog.ContainerConfiguration{
				ContainerURI: "127.0.0.1:8080/agents/hello@sha256:" + hex64('a'),
			},
			CodeConfiguration: &catalog.CodeConfiguration{
				Code: &catalog.Code{S3: &catalog.S3Location{
					Bucket: "code", Prefix: "agents/hello.zip", VersionID: ptr("v-1"),
				}},
				Runtime:    "PYTHON_3_13",
				EntryPoint: []string{"main.py", "--flag"},
			},
		},
		RoleArn: "arn:aws:iam::000000000000:role/agent",
		NetworkConfiguration: &catalog.NetworkConfiguration{
			NetworkMode: "VPC",
			NetworkModeConfig: &catalog.NetworkModeConfig{
				SecurityGroups:           []string{"sg-1", "sg-2"},
				Subnets:                  []string{"subnet-1"},
				RequireServiceS3Endpoint: ptr(false),
			},
			EgressAllowlist: []string{"api.example.com", "*.example.org"},
		},
		Description: ptr(""),
		AuthorizerConfiguration: &catalog.AuthorizerConfiguration{
			CustomJWTAuthorizer: &catalog.CustomJWTAuthorizer{
				DiscoveryURL:           "https://issuer.example/.well-known/openid-configuration",
				AllowedAudience:        []string{"aud-1"},
				AllowedClients:         []string{"client-1", "client-2"},
				AllowedScopes:          []string{"read"},
				AdvertisedScopeMapping: map[string]string{"read": "agent:read"},
				CustomClaims: []catalog.CustomClaim{
					{
						InboundTokenClaimName:      "groups",
						InboundTokenClaimValueType: "STRING_ARRAY",
						AuthorizingClaimMatchValue: &catalog.ClaimMatchValueRule{
							ClaimMatchValue:    &catalog.ClaimMatchValue{MatchValueStringList: []string{"admins"}},
							ClaimMatchOperator: "CONTAINS_ANY",
						},
					},
					{
						InboundTokenClaimName:      "tier",
						InboundTokenClaimValueType: "STRING",
						AuthorizingClaimMatchValue: &catalog.ClaimMatchValueRule{
							ClaimMatchValue:    &catalog.ClaimMatchValue{MatchValueString: ptr("")},
							ClaimMatchOperator: "EQUALS",
						},
					},
				},
			},
		},
		RequestHeaderConfiguration: &catalog.RequestHeaderConfiguration{
			RequestHeaderAllowlist: []string{"X-Amzn-Bedrock-AgentCore-Runtime-Custom-A"},
		},
		ProtocolConfiguration: &catalog.ProtocolConfiguration{
			ServerProtocol: "HTTP", Port: ptr(int32(0)), Path: ptr("/invocations"),
		},
		LifecycleConfiguration: &catalog.LifecycleConfiguration{
			IdleRuntimeSessionTimeout: ptr(int32(900)), MaxLifetime: ptr(int32(28800)),
		},
		EnvironmentVariables: map[string]string{"A": "1", "EMPTY": "", "UNICODE": "héllo ✓"},
		FilesystemConfigurations: []catalog.FilesystemConfiguration{
			{SessionStorage: &catalog.SessionStorage{MountPath: "/mnt/session"}},
			{S3FilesAccessPoint: &catalog.AccessPoint{AccessPointArn: "arn:aws:s3:::ap", MountPath: "/mnt/s3"}},
			{EfsAccessPoint: &catalog.AccessPoint{AccessPointArn: "arn:aws:efs:::ap", MountPath: "/mnt/efs"}},
		},
		MetadataConfiguration: &catalog.MetadataConfiguration{RequireMMDSV2: ptr(false)},
		PlatformVersion:       "1.0",
		AllowedPorts: []catalog.AllowedPort{
			{Port: ptr(int32(8080))},
			{PortRange: &catalog.PortRange{From: 9000, To: 9010}},
		},
	}
}

// sparseConfig leaves every optional member nil: nil must stay nil.
func sparseConfig() catalog.RuntimeConfig {
	return catalog.RuntimeConfig{
		AgentRuntimeArtifact: &catalog.Artifact{
			ContainerConfiguration: &catalog.ContainerConfiguration{ContainerURI: "hello:latest"},
		},
		ProtocolConfiguration: &catalog.ProtocolConfiguration{ServerProtocol: "HTTP"},
	}
}

// hex64 returns 64 copies of c, the length of a sha256 hex digest.
func hex64(c byte) string {
	b := make([]byte, 64)
	for i := range b {
		b[i] = c
	}
	return string(b)
}
