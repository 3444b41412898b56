package cli

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
)

// toolkitFile is the part of the starter toolkit's .bedrock_agentcore.yaml that Berth reads
// (AGENTCORE-WIRE.md §6.1). Its other keys are ignored rather than rejected: the toolkit
// adds keys between releases, and what matters is that each setting Berth cannot honour is
// named in the report.
type toolkitFile struct {
	DefaultAgent string                  `yaml:"default_agent"`
	Agents       map[string]toolkitAgent `yaml:"agents"`
}

type toolkitAgent struct {
	Name             string         `yaml:"name"`
	Language         string         `yaml:"language"`
	Entrypoint       string         `yaml:"entrypoint"`
	DeploymentType   string         `yaml:"deployment_type"`
	RuntimeType      string         `yaml:"runtime_type"`
	Platform         string         `yaml:"platform"`
	ContainerRuntime string         `yaml:"container_runtime"`
	SourcePath       string         `yaml:"source_path"`
	AWS              toolkitAWS     `yaml:"aws"`
	BedrockAgentCore map[string]any `yaml:"bedrock_agentcore"`
	CodeBuild        map[string]any `yaml:"codebuild"`
	Memory           map[string]any `yaml:"memory"`
	Identity         map[string]any `yaml:"identity"`
	AWSJWT           map[string]any `yaml:"aws_jwt"`
	Authorizer       map[string]any `yaml:"authorizer_configuration"`
	RequestHeaders   map[string]any `yaml:"request_header_configuration"`
	OAuth            map[string]any `yaml:"oauth_configuration"`
	APIKeyEnvVar     string         `yaml:"api_key_env_var_name"`
	APIKeyProvider   string         `yaml:"api_key_credential_provider_name"`
}

type toolkitAWS struct {
	ExecutionRole string `yaml:"execution_role"`
	Account       string `yaml:"account"`
	Region        string `yaml:"region"`
	ECRRepository string `yaml:"ecr_repository"`
	S3Path        string `yaml:"s3_path"`
	Network       struct {
		NetworkMode       string `yaml:"network_mode"`
		NetworkModeConfig *struct {
			Subnets        []string `yaml:"subnets"`
			SecurityGroups []string `yaml:"security_groups"`
		} `yaml:"network_mode_config"`
	} `yaml:"network_configuration"`
	Protocol struct {
		ServerProtocol string `yaml:"server_protocol"`
	} `yaml:"protocol_configuration"`
	Observability struct {
		Enabled *bool `yaml:"enabled"`
	} `yaml:"observability"`
	Lifecycle struct {
		IdleRuntimeSessionTimeout *int32 `yaml:"idle_runtime_session_timeout"`
		MaxLifetime               *int32 `yaml:"max_lifetime"`
	} `yaml:"lifecycle_configuration"`
}

// imported is a converted toolkit agent and what could not be converted.
type imported struct {
	project      project
	notConverted []string
}

// importToolkit converts one agent of a starter-toolkit project file: agentName, else the
// file's default_agent, else its only agent.
func importToolkit(path, agentName string) (imported, error) {
	raw, err := os.ReadFile(path) //nolint:gosec // the file the user named
	if err != nil {
		return imported{}, hintError{fmt.Errorf("import: %w", err), "--import takes the path of a .bedrock_agentcore.yaml"}
	}
	var tf toolkitFile
	if err := yaml.Unmarshal(raw, &tf); err != nil {
		msg, _, _ := strings.Cut(err.Error(), "\n")
		return imported{}, hintError{fmt.Errorf("import %s: %s", path, msg), "it should be a starter-toolkit project file with agents: and default_agent:"}
	}
	if len(tf.Agents) == 0 {
		return imported{}, hintError{fmt.Errorf("import %s: no agents: in the file", path), "it should be a starter-toolkit project file with agents: and default_agent:"}
	}
	names := slices.Sorted(maps.Keys(tf.Agents))
	pick := agentName
	if pick == "" {
		pick = tf.DefaultAgent
	}
	if pick == "" && len(names) == 1 {
		pick = names[0]
	}
	ta, ok := tf.Agents[pick]
	if !ok {
		what := "the file names no default_agent"
		if pick != "" {
			what = fmt.Sprintf("the file has no agent %q", pick)
		}
		return imported{}, hintError{fmt.Errorf("import %s: %s", path, what), "pick one with --agent: " + strings.Join(names, ", ")}
	}
	im := convertAgent(pick, ta)
	if others := slices.DeleteFunc(names, func(n string) bool { return n == pick }); len(others) > 0 {
		im.notConverted = append(im.notConverted, fmt.Sprintf("agents %s: .berth.yaml holds one agent; import each in its own directory with --agent", strings.Join(others, ", ")))
	}
	return im, nil
}

// convertAgent maps a toolkit agent onto a Berth project.
func convertAgent(key string, ta toolkitAgent) imported {
	var im imported
	note := func(format string, args ...any) {
		im.notConverted = append(im.notConverted, fmt.Sprintf(format, args...))
	}
	p := project{Version: 1, Name: ta.Name, Protocol: "HTTP", Network: &network{Mode: "PUBLIC"}}
	if p.Name == "" {
		p.Name = key
	}
	if src := ta.SourcePath; src != "" && src != "." {
		p.Source = src
	}
	entry := ta.Entrypoint
	if e, fn, ok := strings.Cut(entry, ":"); ok {
		entry = e
		note("entrypoint handler %q: Berth runs the entry file, which must start the agent's server", fn)
	}
	if p.Source != "" && filepath.IsAbs(entry) {
		if rel, err := filepath.Rel(p.Source, entry); err == nil {
			entry = rel
		}
	}
	p.Entrypoint = entry
	if st, err := os.Stat(filepath.Join(orDefault(p.Source, "."), entry)); err == nil && st.IsDir() {
		// The toolkit takes a directory too, and looks for the usual entry file in it.
		p.Source = filepath.Join(orDefault(p.Source, "."), entry)
		p.Entrypoint = orDefault(guessEntry(p.Source), defaultEntrypoint)
		note("entrypoint %s is a directory: the project is %s, entry point %s", entry, p.Source, p.Entrypoint)
	}
	node := ta.Language == "typescript" || isNodeEntry(p.Entrypoint)
	switch ta.DeploymentType {
	case "direct_code_deploy":
		p.DeploymentType, p.Runtime = deployZip, ta.RuntimeType
	default: // container, or unset (the toolkit's default)
		p.DeploymentType = deployZip
		note("deployment_type %s: Berth builds images without Docker only for Go; converted to a code zip (or push an image you built and set image:)", orDefault(ta.DeploymentType, "container"))
		if ta.ECRRepository() != "" {
			note("aws.ecr_repository %s: images go to Berth's built-in registry ('berth push')", ta.ECRRepository())
		}
	}
	if p.Runtime == "" {
		p.Runtime = defaultRuntime
		if node {
			p.Runtime = "NODE_22"
		}
	}
	if !slices.Contains(codeRuntimes, p.Runtime) {
		note("runtime_type %s: not a managed runtime Berth knows; using %s", p.Runtime, defaultRuntime)
		p.Runtime = defaultRuntime
	}
	if sp := ta.AWS.Protocol.ServerProtocol; sp != "" {
		p.Protocol = strings.ToUpper(sp)
	}
	if nm := ta.AWS.Network.NetworkMode; nm != "" {
		p.Network.Mode = strings.ToUpper(nm)
		if c := ta.AWS.Network.NetworkModeConfig; c != nil {
			p.Network.Subnets, p.Network.SecurityGroups = c.Subnets, c.SecurityGroups
		}
		if p.Network.Mode == "VPC" {
			note("network_mode VPC: kept as given; outside AWS a VPC runtime's sessions have no network (use PUBLIC, with network.egressAllowlist to narrow it)")
		}
	}
	if l := ta.AWS.Lifecycle; l.IdleRuntimeSessionTimeout != nil || l.MaxLifetime != nil {
		p.Lifecycle = &lifecycle{}
		if l.IdleRuntimeSessionTimeout != nil {
			p.Lifecycle.IdleRuntimeSessionTimeout = *l.IdleRuntimeSessionTimeout
		}
		if l.MaxLifetime != nil {
			p.Lifecycle.MaxLifetime = *l.MaxLifetime
		}
	}
	if r := ta.AWS.ExecutionRole; r != "" {
		p.ExecutionRole = r
	}
	if s3 := ta.AWS.S3Path; s3 != "" {
		bucket, prefix, _ := strings.Cut(strings.TrimPrefix(s3, "s3://"), "/")
		p.Bucket = bucket
		if prefix != "" {
			note("aws.s3_path prefix %q: zips go to s3://%s/<name>/ in Berth's object store", prefix, bucket)
		}
	}
	if ta.AWS.Region != "" || ta.AWS.Account != "" {
		note("aws.account/aws.region: a Berth server has its own; select it with --endpoint, --region or a profile")
	}
	if ta.Platform != "" {
		note("platform %s: Berth runs agents on its host's architecture", ta.Platform)
	}
	if ta.AWS.Observability.Enabled != nil && *ta.AWS.Observability.Enabled {
		note("aws.observability: Berth's tracing and logs are server settings (telemetry.*, logs.*)")
	}
	convertHeaders(&p, ta.RequestHeaders, note)
	convertAuthorizer(&p, ta.Authorizer, note)
	if mode, _ := ta.Memory["mode"].(string); mode != "" && mode != "NO_MEMORY" {
		note("memory (%s): AgentCore Memory has no Berth equivalent", mode)
	}
	if len(nonEmpty(ta.Identity)) > 0 {
		note("identity (credential providers, workload identity): not supported by Berth yet")
	}
	if on, _ := ta.AWSJWT["enabled"].(bool); on {
		note("aws_jwt: not supported by Berth")
	}
	if len(nonEmpty(ta.OAuth)) > 0 || ta.APIKeyEnvVar != "" || ta.APIKeyProvider != "" {
		note("oauth_configuration / api_key_*: the token vault is not supported by Berth yet; pass secrets with env:")
	}
	if len(nonEmpty(ta.CodeBuild)) > 0 {
		note("codebuild: Berth builds locally")
	}
	if len(nonEmpty(ta.BedrockAgentCore)) > 0 {
		note("bedrock_agentcore (agent_id, agent_arn, agent_session_id): they name AWS resources; 'berth deploy' creates the runtime on Berth")
	}
	im.project = p
	return im
}

// ECRRepository is aws.ecr_repository.
func (ta toolkitAgent) ECRRepository() string { return ta.AWS.ECRRepository }

// convertHeaders takes request_header_configuration {requestHeaderAllowlist: [...]}.
func convertHeaders(p *project, rh map[string]any, note func(string, ...any)) {
	if len(rh) == 0 {
		return
	}
	list, ok := rh["requestHeaderAllowlist"].([]any)
	if !ok {
		note("request_header_configuration: no requestHeaderAllowlist list in it")
		return
	}
	for _, h := range list {
		if s, ok := h.(string); ok {
			p.RequestHeaderAllowlist = append(p.RequestHeaderAllowlist, s)
		}
	}
}

// convertAuthorizer takes authorizer_configuration {customJWTAuthorizer: {...}}.
func convertAuthorizer(p *project, ac map[string]any, note func(string, ...any)) {
	if len(ac) == 0 {
		return
	}
	j, ok := ac["customJWTAuthorizer"].(map[string]any)
	if !ok {
		note("authorizer_configuration: only customJWTAuthorizer is converted")
		return
	}
	ja := &jwtAuthorizer{}
	ja.DiscoveryURL, _ = j["discoveryUrl"].(string)
	ja.AllowedAudience = stringList(j["allowedAudience"])
	ja.AllowedClients = stringList(j["allowedClients"])
	ja.AllowedScopes = stringList(j["allowedScopes"])
	for k := range j {
		switch k {
		case "discoveryUrl", "allowedAudience", "allowedClients", "allowedScopes":
		default:
			note("authorizer_configuration.customJWTAuthorizer.%s: not converted", k)
		}
	}
	if ja.DiscoveryURL == "" {
		note("authorizer_configuration: customJWTAuthorizer without discoveryUrl dropped")
		return
	}
	p.Authorizer = &authorizer{CustomJWTAuthorizer: ja}
}

// stringList converts a YAML list of strings.
func stringList(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// nonEmpty drops the keys of m whose values are null, false, empty or zero.
func nonEmpty(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		switch x := v.(type) {
		case nil:
		case bool:
			if x {
				out[k] = v
			}
		case string:
			if x != "" {
				out[k] = v
			}
		case []any:
			if len(x) > 0 {
				out[k] = v
			}
		case map[string]any:
			if len(nonEmpty(x)) > 0 {
				out[k] = v
			}
		default:
			out[k] = v
		}
	}
	return out
}
