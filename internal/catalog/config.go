package catalog

// The types in this file are the runtime configuration exactly as AgentCore's wire shapes
// spell it (AGENTCORE-WIRE.md §3.2). A Version stores one RuntimeConfig as an immutable
// snapshot, so GetAgentRuntime?version=N answers with what was sent for N. Optional members
// are pointers or nil-able so that unset members are omitted, never sent as null.

// RuntimeConfig is the full, replaceable configuration of an agent runtime: the body of
// CreateAgentRuntime minus agentRuntimeName, clientToken and tags.
type RuntimeConfig struct {
	AgentRuntimeArtifact       *Artifact                   `json:"agentRuntimeArtifact,omitempty"`
	RoleArn                    string                      `json:"roleArn,omitempty"`
	NetworkConfiguration       *NetworkConfiguration       `json:"networkConfiguration,omitempty"`
	Description                *string                     `json:"description,omitempty"`
	AuthorizerConfiguration    *AuthorizerConfiguration    `json:"authorizerConfiguration,omitempty"`
	RequestHeaderConfiguration *RequestHeaderConfiguration `json:"requestHeaderConfiguration,omitempty"`
	ProtocolConfiguration      *ProtocolConfiguration      `json:"protocolConfiguration,omitempty"`
	LifecycleConfiguration     *LifecycleConfiguration     `json:"lifecycleConfiguration,omitempty"`
	EnvironmentVariables       map[string]string           `json:"environmentVariables,omitempty"`
	FilesystemConfigurations   []FilesystemConfiguration   `json:"filesystemConfigurations,omitempty"`
	MetadataConfiguration      *MetadataConfiguration      `json:"metadataConfiguration,omitempty"`
	PlatformVersion            string                      `json:"platformVersion,omitempty"`
	AllowedPorts               []AllowedPort               `json:"allowedPorts,omitempty"`
}

// Artifact is the agentRuntimeArtifact union: exactly one member is set.
type Artifact struct {
	ContainerConfiguration *ContainerConfiguration `json:"containerConfiguration,omitempty"`
	CodeConfiguration      *CodeConfiguration      `json:"codeConfiguration,omitempty"`
}

// ContainerConfiguration names an OCI image.
type ContainerConfiguration struct {
	ContainerURI string `json:"containerUri"`
}

// CodeConfiguration is a code zip run on a managed runtime.
type CodeConfiguration struct {
	Code       *Code    `json:"code,omitempty"`
	Runtime    string   `json:"runtime,omitempty"`
	EntryPoint []string `json:"entryPoint,omitempty"`
}

// Code is the code union; only s3 exists.
type Code struct {
	S3 *S3Location `json:"s3,omitempty"`
}

// S3Location names the zip object. Prefix is, in practice, the full object key.
type S3Location struct {
	Bucket    string  `json:"bucket"`
	Prefix    string  `json:"prefix"`
	VersionID *string `json:"versionId,omitempty"`
}

// NetworkConfiguration is accepted and stored. networkMode PUBLIC gives sessions the
// internet (never the host or private ranges); anything else gives them no network.
type NetworkConfiguration struct {
	NetworkMode       string             `json:"networkMode"`
	NetworkModeConfig *NetworkModeConfig `json:"networkModeConfig,omitempty"`
	// EgressAllowlist is a Berth extension, not part of AgentCore's shape: with networkMode
	// PUBLIC, sessions reach only these domains ("api.example.com", or "*.example.com" for
	// every name below example.com), through an HTTP(S) proxy that Berth points their
	// HTTP_PROXY/HTTPS_PROXY at. Unset means the whole internet.
	EgressAllowlist []string `json:"egressAllowlist,omitempty"`
}

// NetworkModeConfig holds VPC settings (no meaning outside AWS; stored as given).
type NetworkModeConfig struct {
	SecurityGroups           []string `json:"securityGroups,omitempty"`
	Subnets                  []string `json:"subnets,omitempty"`
	RequireServiceS3Endpoint *bool    `json:"requireServiceS3Endpoint,omitempty"`
}

// AuthorizerConfiguration is the inbound-auth union.
type AuthorizerConfiguration struct {
	CustomJWTAuthorizer *CustomJWTAuthorizer `json:"customJWTAuthorizer,omitempty"`
}

// CustomJWTAuthorizer configures OIDC bearer-token authentication for a runtime.
type CustomJWTAuthorizer struct {
	DiscoveryURL           string            `json:"discoveryUrl"`
	AllowedAudience        []string          `json:"allowedAudience,omitempty"`
	AllowedClients         []string          `json:"allowedClients,omitempty"`
	AllowedScopes          []string          `json:"allowedScopes,omitempty"`
	AdvertisedScopeMapping map[string]string `json:"advertisedScopeMapping,omitempty"`
	CustomClaims           []CustomClaim     `json:"customClaims,omitempty"`
}

// CustomClaim is one claim rule of a JWT authorizer.
type CustomClaim struct {
	InboundTokenClaimName      string               `json:"inboundTokenClaimName"`
	InboundTokenClaimValueType string               `json:"inboundTokenClaimValueType"`
	AuthorizingClaimMatchValue *ClaimMatchValueRule `json:"authorizingClaimMatchValue,omitempty"`
}

// ClaimMatchValueRule is how a claim must match.
type ClaimMatchValueRule struct {
	ClaimMatchValue    *ClaimMatchValue `json:"claimMatchValue,omitempty"`
	ClaimMatchOperator string           `json:"claimMatchOperator"`
}

// ClaimMatchValue is the union of a string or a string list.
type ClaimMatchValue struct {
	MatchValueString     *string  `json:"matchValueString,omitempty"`
	MatchValueStringList []string `json:"matchValueStringList,omitempty"`
}

// RequestHeaderConfiguration is the union holding the header allowlist.
type RequestHeaderConfiguration struct {
	RequestHeaderAllowlist []string `json:"requestHeaderAllowlist,omitempty"`
}

// ProtocolConfiguration selects the agent's protocol and, optionally, port and path.
type ProtocolConfiguration struct {
	ServerProtocol string  `json:"serverProtocol"`
	Port           *int32  `json:"port,omitempty"`
	Path           *string `json:"path,omitempty"`
}

// LifecycleConfiguration bounds a session's idle time and lifetime, in seconds.
type LifecycleConfiguration struct {
	IdleRuntimeSessionTimeout *int32 `json:"idleRuntimeSessionTimeout,omitempty"`
	MaxLifetime               *int32 `json:"maxLifetime,omitempty"`
}

// FilesystemConfiguration is a union of storage mounts.
type FilesystemConfiguration struct {
	SessionStorage     *SessionStorage `json:"sessionStorage,omitempty"`
	S3FilesAccessPoint *AccessPoint    `json:"s3FilesAccessPoint,omitempty"`
	EfsAccessPoint     *AccessPoint    `json:"efsAccessPoint,omitempty"`
}

// SessionStorage is per-session storage mounted at MountPath.
type SessionStorage struct {
	MountPath string `json:"mountPath"`
}

// AccessPoint is an external filesystem mount (stored; not mountable outside AWS).
type AccessPoint struct {
	AccessPointArn string `json:"accessPointArn"`
	MountPath      string `json:"mountPath"`
}

// MetadataConfiguration is accepted on update and reported on get.
type MetadataConfiguration struct {
	RequireMMDSV2 *bool `json:"requireMMDSV2,omitempty"`
}

// AllowedPort is a union of a single port or a range.
type AllowedPort struct {
	Port      *int32     `json:"port,omitempty"`
	PortRange *PortRange `json:"portRange,omitempty"`
}

// PortRange is an inclusive port range.
type PortRange struct {
	From int32 `json:"from"`
	To   int32 `json:"to"`
}
