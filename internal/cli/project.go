package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"

	"berth.dev/berth/internal/atomicfile"
)

// projectFile is the project file, in the current directory: what 'berth configure' writes
// and 'berth deploy', 'invoke', 'status', 'destroy' and the others read. Flags override it.
const projectFile = ".berth.yaml"

// Deployment types of a project.
const (
	deployZip   = "zip"
	deployImage = "image"
)

// codeRuntimes are the managed runtimes a code zip may name (internal/catalog accepts the
// same list).
var codeRuntimes = []string{
	"PYTHON_3_10", "PYTHON_3_11", "PYTHON_3_12", "PYTHON_3_13", "PYTHON_3_14",
	"NODE_18", "NODE_20", "NODE_22",
}

// protocols are the serverProtocol values.
var protocols = []string{"HTTP", "MCP", "A2A", "AGUI"}

// networkModes are the networkMode values: PUBLIC gives sessions the internet (or only
// network.egressAllowlist), VPC is stored as given and means no network outside AWS.
var networkModes = []string{"PUBLIC", "VPC"}

// project is the content of .berth.yaml. Field names follow AgentCore's wire names where
// there is one.
type project struct {
	Version int `yaml:"version" json:"version"`
	// Name is the agent runtime name.
	Name string `yaml:"name" json:"name"`
	// Source is the project directory deployed, relative to the project file ("." when empty).
	Source string `yaml:"source,omitempty" json:"source,omitempty"`
	// Entrypoint is the file that starts the agent (zip), or the Go package built into an
	// image ("." when empty).
	Entrypoint string `yaml:"entrypoint,omitempty" json:"entrypoint,omitempty"`
	// DeploymentType is zip or image.
	DeploymentType string `yaml:"deploymentType" json:"deploymentType"`
	// Runtime is the managed runtime of a zip (PYTHON_3_11, NODE_22, …).
	Runtime string `yaml:"runtime,omitempty" json:"runtime,omitempty"`
	// Image is an image reference deployed as it is (image type).
	Image string `yaml:"image,omitempty" json:"image,omitempty"`
	// ImageArchive is an OCI image layout directory or a docker-archive tarball pushed to
	// the server's registry and deployed (image type). Without Image and ImageArchive, an
	// image type project is built from a Go module.
	ImageArchive string            `yaml:"imageArchive,omitempty" json:"imageArchive,omitempty"`
	Protocol     string            `yaml:"protocol,omitempty" json:"protocol,omitempty"`
	Description  string            `yaml:"description,omitempty" json:"description,omitempty"`
	Env          map[string]string `yaml:"env,omitempty" json:"env,omitempty"`
	Lifecycle    *lifecycle        `yaml:"lifecycle,omitempty" json:"lifecycle,omitempty"`
	// RequestHeaderAllowlist names the request headers the agent receives.
	RequestHeaderAllowlist []string    `yaml:"requestHeaderAllowlist,omitempty" json:"requestHeaderAllowlist,omitempty"`
	Authorizer             *authorizer `yaml:"authorizer,omitempty" json:"authorizer,omitempty"`
	Network                *network    `yaml:"network,omitempty" json:"network,omitempty"`
	// ExecutionRole is recorded on the runtime (Berth does not assume it).
	ExecutionRole string `yaml:"executionRole,omitempty" json:"executionRole,omitempty"`
	// Bucket is where code zips are uploaded (default berth-agents).
	Bucket string `yaml:"bucket,omitempty" json:"bucket,omitempty"`
}

// lifecycle is lifecycleConfiguration, in seconds.
type lifecycle struct {
	IdleRuntimeSessionTimeout int32 `yaml:"idleRuntimeSessionTimeout,omitempty" json:"idleRuntimeSessionTimeout,omitempty"`
	MaxLifetime               int32 `yaml:"maxLifetime,omitempty" json:"maxLifetime,omitempty"`
}

// authorizer is authorizerConfiguration.
type authorizer struct {
	CustomJWTAuthorizer *jwtAuthorizer `yaml:"customJWTAuthorizer" json:"customJWTAuthorizer"`
}

// jwtAuthorizer is customJWTAuthorizer.
type jwtAuthorizer struct {
	DiscoveryURL    string   `yaml:"discoveryUrl" json:"discoveryUrl"`
	AllowedAudience []string `yaml:"allowedAudience,omitempty" json:"allowedAudience,omitempty"`
	AllowedClients  []string `yaml:"allowedClients,omitempty" json:"allowedClients,omitempty"`
	AllowedScopes   []string `yaml:"allowedScopes,omitempty" json:"allowedScopes,omitempty"`
}

// network is networkConfiguration.
type network struct {
	Mode string `yaml:"mode" json:"mode"`
	// EgressAllowlist is Berth's extension: with PUBLIC, only these domains are reachable.
	EgressAllowlist []string `yaml:"egressAllowlist,omitempty" json:"egressAllowlist,omitempty"`
	Subnets         []string `yaml:"subnets,omitempty" json:"subnets,omitempty"`
	SecurityGroups  []string `yaml:"securityGroups,omitempty" json:"securityGroups,omitempty"`
}

// loadProject reads .berth.yaml from the current directory; ok is false when there is none.
func loadProject() (project, bool, error) {
	raw, err := os.ReadFile(projectFile)
	if errors.Is(err, fs.ErrNotExist) {
		return project{}, false, nil
	}
	if err != nil {
		return project{}, false, fmt.Errorf("read %s: %w", projectFile, err)
	}
	var p project
	if err := decodeYAML(projectFile, raw, &p); err != nil {
		return p, false, hintError{err, "fix the file, or write it again with 'berth configure'"}
	}
	if err := p.validate(); err != nil {
		return p, false, hintError{fmt.Errorf("%s: %w", projectFile, err), "fix the file, or write it again with 'berth configure'"}
	}
	return p, true, nil
}

// decodeYAML decodes raw strictly (unknown keys are errors) into v. Errors are one line:
// "file:line:col: message".
func decodeYAML(name string, raw []byte, v any) error {
	err := yaml.UnmarshalWithOptions(raw, v, yaml.Strict())
	if err == nil {
		return nil
	}
	var ye yaml.Error
	if errors.As(err, &ye) && ye.GetToken() != nil {
		pos := ye.GetToken().Position
		return fmt.Errorf("%s:%d:%d: %s", name, pos.Line, pos.Column, ye.GetMessage())
	}
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return fmt.Errorf("%s: %s", name, msg)
}

// validate checks the values a server would reject, so mistakes show before an upload.
func (p *project) validate() error {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if p.Version != 1 {
		bad("version must be 1")
	}
	if p.Name == "" {
		bad("name is missing")
	} else if !validName(p.Name) {
		bad("name %q must start with a letter and hold only letters, digits and underscores (at most 48)", p.Name)
	}
	switch p.DeploymentType {
	case deployZip:
		if p.Runtime != "" && !slices.Contains(codeRuntimes, p.Runtime) {
			bad("runtime %q is not one of %s", p.Runtime, strings.Join(codeRuntimes, ", "))
		}
		if p.Image != "" || p.ImageArchive != "" {
			bad("image and imageArchive need deploymentType image")
		}
	case deployImage:
		if p.Image != "" && p.ImageArchive != "" {
			bad("give image or imageArchive, not both")
		}
		if p.Runtime != "" {
			bad("runtime is for deploymentType zip")
		}
	default:
		bad("deploymentType %q is not zip or image", p.DeploymentType)
	}
	if p.Protocol != "" && !slices.Contains(protocols, p.Protocol) {
		bad("protocol %q is not one of %s", p.Protocol, strings.Join(protocols, ", "))
	}
	if l := p.Lifecycle; l != nil {
		if l.IdleRuntimeSessionTimeout != 0 && (l.IdleRuntimeSessionTimeout < 60 || l.IdleRuntimeSessionTimeout > 28800) {
			bad("lifecycle.idleRuntimeSessionTimeout must be 60–28800 seconds")
		}
		if l.MaxLifetime != 0 && (l.MaxLifetime < 60 || l.MaxLifetime > 28800) {
			bad("lifecycle.maxLifetime must be 60–28800 seconds")
		}
	}
	if a := p.Authorizer; a != nil && (a.CustomJWTAuthorizer == nil || a.CustomJWTAuthorizer.DiscoveryURL == "") {
		bad("authorizer.customJWTAuthorizer.discoveryUrl is missing")
	}
	if n := p.Network; n != nil {
		if !slices.Contains(networkModes, n.Mode) {
			bad("network.mode %q is not PUBLIC or VPC", n.Mode)
		}
		if len(n.EgressAllowlist) > 0 && n.Mode != "PUBLIC" {
			bad("network.egressAllowlist needs network.mode PUBLIC")
		}
	}
	for k := range p.Env {
		if k == "" || strings.ContainsAny(k, "= ") {
			bad("env name %q is not a variable name", k)
		}
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

// validName reports whether s is a valid agent runtime name: ^[a-zA-Z][a-zA-Z0-9_]{0,47}$.
func validName(s string) bool {
	if s == "" || len(s) > 48 {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case i > 0 && (r >= '0' && r <= '9' || r == '_'):
		default:
			return false
		}
	}
	return true
}

// save writes the project file atomically with a comment header.
func (p project) save(path string) error {
	raw, err := yaml.MarshalWithOptions(p, yaml.Indent(2), yaml.IndentSequence(true))
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	head := "# Berth project file, written by 'berth configure'; 'berth deploy' reads it.\n" +
		"# Reference: 'berth configure --help'.\n"
	if err := atomicfile.WriteFile(path, append([]byte(head), raw...), 0o644); err != nil { //nolint:gosec // a project file, meant to be read and committed
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// runtimeName returns name when it is set, else the project file's name; without either it
// is an error whose hint shows example.
func runtimeName(name, example string) (string, error) {
	if name != "" {
		return name, nil
	}
	p, ok, err := loadProject()
	if err != nil {
		return "", err
	}
	if !ok {
		return "", hintError{noProjectError{fmt.Sprintf("no --name given and no %s here", projectFile)}, "for example: " + example + "; or run 'berth configure'"}
	}
	return p.Name, nil
}

// noProjectError is runtimeName's error when there is neither a name nor a project file.
type noProjectError struct{ msg string }

func (e noProjectError) Error() string { return e.msg }

// isNoProject reports whether err is runtimeName's "no project file" error.
func isNoProject(err error) bool {
	var e noProjectError
	return errors.As(err, &e)
}
