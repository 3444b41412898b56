package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Defaults of deploy.
const (
	defaultBucket     = "berth-agents"
	defaultRole       = "arn:aws:iam::000000000000:role/BerthAgent"
	defaultEntrypoint = "main.py"
	defaultRuntime    = string(types.AgentManagedRuntimeTypePython311)
)

// deployFlags are berth deploy's own flags.
type deployFlags struct {
	name, dir, image, imageArchive, entrypoint, runtime, protocol, bucket, role string
	env, allowHeaders                                                           []string
	noDeps                                                                      bool
	timeout                                                                     time.Duration
}

// deployResult is what deploy prints.
type deployResult struct {
	Name         string `json:"agentRuntimeName"`
	ID           string `json:"agentRuntimeId"`
	ARN          string `json:"agentRuntimeArn"`
	Version      string `json:"agentRuntimeVersion"`
	Status       string `json:"status"`
	Created      bool   `json:"created"`
	Endpoint     string `json:"endpoint"`
	CodeLocation string `json:"codeLocation,omitempty"`
	Image        string `json:"containerUri,omitempty"`
	Vendored     string `json:"dependenciesInstalledWith,omitempty"`
}

func newDeployCmd(g *globals, stdout, stderr io.Writer) *cobra.Command {
	var f deployFlags
	cmd := &cobra.Command{
		Use:   "deploy [--name NAME] [--dir DIR | --image REF | --image-archive PATH]",
		Short: "Package and deploy an agent, create or update its runtime, wait until READY",
		Long: `Deploy an agent runtime to a Berth server. Settings come from .berth.yaml in the current
directory ('berth configure' writes it) when there is one; flags override it. Without the
file, --name and one of --dir, --image and --image-archive are needed.

Deployment type zip (--dir): the directory is packed into a code zip (.git, .berth,
__pycache__ and .venv are left out) with its dependencies vendored in, as AgentCore's
managed runtimes expect: for a Python runtime with a requirements.txt, 'pip install
--target' puts them at the root of the zip; for a Node.js runtime with dependencies in
package.json, 'npm install --omit=dev' puts them in node_modules/ (the directory itself is
not changed). --no-deps packs the directory as it is. The zip is uploaded to the server's
object store (s3://<bucket>/<name>/<time>.zip) and deployed with --runtime and --entrypoint.

Deployment type image: --image deploys an image reference as it is; --image-archive pushes
an OCI image layout directory or a docker-archive tarball to the server's built-in
registry (as agents/<name>:<time>) and deploys that. With neither, the image is built
without Docker from a Go module: 'go build' of the main package --entrypoint (default ".")
into a static Linux binary (CGO_ENABLED=0; GOARCH as set, else this machine's), which
becomes /agent in a single-layer image with nothing else in it. Only Go agents are built;
for anything else, push an image you built.

If a runtime called NAME exists it gets a new version, otherwise it is created. The command
waits until the version is READY and prints its ARN and version. The runtime's environment
and header allowlist are exactly .berth.yaml's plus the --env and --allow-header values
(an update without any clears them).

--local deploys to the project's own Berth server, started in the background when it is not
running ('berth local' shows and stops it).`,
		Example: `  berth deploy                          # everything from .berth.yaml
  berth deploy --name hello --dir examples/hello-python
  berth deploy --name hello --dir . --entrypoint agent.py --env GREETING=Hi -o json
  berth deploy --name web --image 127.0.0.1:8787/agents/web:1
  berth deploy --name web --image-archive ./oci-layout
  berth deploy --local`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			asJSON, err := g.json()
			if err != nil {
				return err
			}
			spec, err := deploySpec(f, cmd.Flags())
			if err != nil {
				return err
			}
			prog := newProgress(stdout)
			defer prog.clear()
			if g.local {
				if err := g.resolveWithoutLocal(); err != nil {
					return err
				}
				ls, started, err := startLocal(cmd.Context(), g.region, prog)
				if err != nil {
					return err
				}
				g.useLocal(ls)
				if started && !asJSON {
					prog.clear()
					fmt.Fprintf(stderr, "Started a local Berth server at %s (pid %d; 'berth local stop' stops it)\n", ls.Endpoint, ls.PID)
				}
			}
			a, err := g.api(cmd.Context())
			if err != nil {
				return err
			}
			res, err := deploy(cmd.Context(), a, spec, prog)
			prog.clear()
			if err != nil {
				return friendly(err, a.endpoint)
			}
			if asJSON {
				return writeJSON(stdout, res)
			}
			verb := "Updated"
			if res.Created {
				verb = "Created"
			}
			fmt.Fprintf(stdout, "%s %s: version %s is %s\n", verb, res.Name, res.Version, res.Status)
			fmt.Fprintf(stdout, "ARN: %s\n", res.ARN)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.name, "name", "", "agent runtime name (letters, digits, underscores; default: .berth.yaml's)")
	fl.StringVar(&f.dir, "dir", "", "project directory (default: . with a .berth.yaml)")
	fl.StringVar(&f.image, "image", "", "OCI image reference to deploy as it is")
	fl.StringVar(&f.imageArchive, "image-archive", "", "OCI image layout directory or docker-archive tarball to push and deploy")
	fl.StringVar(&f.entrypoint, "entrypoint", defaultEntrypoint, "entry point inside the directory (zip), or the Go main package (image built from a Go module: default .)")
	fl.StringVar(&f.runtime, "runtime", defaultRuntime, "managed runtime of a zip: "+strings.Join(codeRuntimes, ", ")+" (default NODE_22 for a .js entry point)")
	fl.StringVar(&f.protocol, "protocol", "", "server protocol: "+strings.Join(protocols, ", ")+" (default HTTP)")
	fl.StringArrayVar(&f.env, "env", nil, "environment variable KEY=VALUE (repeatable)")
	fl.StringArrayVar(&f.allowHeaders, "allow-header", nil, "request header the agent may receive (repeatable; a bare Name gets the "+customHeaderPrefix+" prefix)")
	fl.BoolVar(&f.noDeps, "no-deps", false, "do not install requirements.txt / package.json dependencies into the zip")
	fl.StringVar(&f.bucket, "bucket", defaultBucket, "object store bucket the code zip is uploaded to")
	fl.StringVar(&f.role, "role", defaultRole, "execution role ARN recorded on the runtime")
	fl.DurationVar(&f.timeout, "timeout", 5*time.Minute, "how long to wait for READY")
	return cmd
}

// deployTarget is everything one deploy needs: the project (from .berth.yaml, overridden
// by flags) plus where its files are.
type deployTarget struct {
	project
	dir     string
	noDeps  bool
	timeout time.Duration
}

// deploySpec merges .berth.yaml and the flags: a flag given on the command line wins, a
// flag left at its default does not override the file.
func deploySpec(f deployFlags, fl *pflag.FlagSet) (deployTarget, error) {
	p, hasProject, err := loadProject()
	if err != nil {
		return deployTarget{}, err
	}
	t := deployTarget{project: p, noDeps: f.noDeps, timeout: f.timeout}
	if !hasProject {
		t.Version, t.DeploymentType = 1, deployZip
	}
	if f.name != "" {
		t.Name = f.name
	}
	if t.Name == "" {
		return t, hintError{errors.New("deploy needs --name"), "for example: berth deploy --name my_agent --dir . ; or run 'berth configure' to write .berth.yaml"}
	}
	sources := 0
	for _, s := range []string{f.dir, f.image, f.imageArchive} {
		if s != "" {
			sources++
		}
	}
	switch {
	case sources > 1:
		return t, hintError{errors.New("give one of --dir, --image and --image-archive"), "--dir deploys a directory, --image an image reference, --image-archive an image on disk"}
	case sources == 0 && !hasProject:
		return t, hintError{errors.New("deploy needs --dir, --image or --image-archive"), "--dir deploys a directory as a code zip; 'berth configure' writes a .berth.yaml that says what to deploy"}
	case f.image != "":
		t.DeploymentType, t.Image, t.ImageArchive = deployImage, f.image, ""
	case f.imageArchive != "":
		t.DeploymentType, t.Image, t.ImageArchive = deployImage, "", f.imageArchive
	case f.dir != "":
		t.dir = f.dir
	}
	if t.dir == "" {
		t.dir = t.Source
	}
	if t.dir == "" {
		t.dir = "."
	}
	if fl.Changed("entrypoint") || t.Entrypoint == "" {
		t.Entrypoint = f.entrypoint
		if !fl.Changed("entrypoint") && t.DeploymentType == deployImage {
			t.Entrypoint = "."
		}
	}
	if fl.Changed("runtime") {
		t.Runtime = f.runtime
	}
	if t.DeploymentType == deployZip && t.Runtime == "" {
		t.Runtime = defaultRuntime
		if isNodeEntry(t.Entrypoint) {
			t.Runtime = string(types.AgentManagedRuntimeTypeNode22)
		}
	}
	if f.protocol != "" {
		t.Protocol = f.protocol
	}
	if fl.Changed("bucket") || t.Bucket == "" {
		t.Bucket = f.bucket
	}
	if fl.Changed("role") || t.ExecutionRole == "" {
		t.ExecutionRole = f.role
	}
	env, err := parseEnv(f.env)
	if err != nil {
		return t, err
	}
	if len(env) > 0 {
		t.Env = maps.Clone(t.Env)
		if t.Env == nil {
			t.Env = map[string]string{}
		}
		maps.Copy(t.Env, env)
	}
	if len(f.allowHeaders) > 0 {
		t.RequestHeaderAllowlist = f.allowHeaders
	}
	if err := t.validate(); err != nil {
		return t, hintError{err, "fix the flag or .berth.yaml; 'berth deploy --help' shows the flags"}
	}
	return t, nil
}

// isNodeEntry reports whether an entry point is a JavaScript file.
func isNodeEntry(entry string) bool {
	for _, ext := range []string{".js", ".mjs", ".cjs"} {
		if strings.HasSuffix(entry, ext) {
			return true
		}
	}
	return false
}

func deploy(ctx context.Context, a *api, t deployTarget, prog *progress) (deployResult, error) {
	res := deployResult{Name: t.Name}
	art, err := prepareArtifact(ctx, a, t, prog)
	if err != nil {
		return res, err
	}
	res.CodeLocation, res.Image, res.Vendored = art.codeLocation, art.image, art.vendored
	prog.step("Looking up runtime %s", t.Name)
	existing, err := a.findRuntime(ctx, t.Name)
	if err != nil {
		return res, err
	}
	cfg := runtimeConfig(t)
	var opts []func(*cp.Options)
	if n := t.Network; n != nil && len(n.EgressAllowlist) > 0 {
		opts = append(opts, func(o *cp.Options) { o.APIOptions = append(o.APIOptions, withEgressAllowlist(n.EgressAllowlist)) })
	}
	if existing == nil {
		prog.step("Creating runtime %s", t.Name)
		out, err := a.control.CreateAgentRuntime(ctx, &cp.CreateAgentRuntimeInput{
			AgentRuntimeName: aws.String(t.Name), AgentRuntimeArtifact: art.artifact, RoleArn: aws.String(t.ExecutionRole),
			NetworkConfiguration: cfg.network, EnvironmentVariables: t.Env, RequestHeaderConfiguration: cfg.headers,
			ProtocolConfiguration: cfg.protocol, LifecycleConfiguration: cfg.lifecycle, AuthorizerConfiguration: cfg.authorizer,
			Description: cfg.description,
		}, opts...)
		if err != nil {
			return res, err
		}
		res.ID, res.Created = aws.ToString(out.AgentRuntimeId), true
	} else {
		prog.step("Updating runtime %s", t.Name)
		out, err := a.control.UpdateAgentRuntime(ctx, &cp.UpdateAgentRuntimeInput{
			AgentRuntimeId: existing.AgentRuntimeId, AgentRuntimeArtifact: art.artifact, RoleArn: aws.String(t.ExecutionRole),
			NetworkConfiguration: cfg.network, EnvironmentVariables: t.Env, RequestHeaderConfiguration: cfg.headers,
			ProtocolConfiguration: cfg.protocol, LifecycleConfiguration: cfg.lifecycle, AuthorizerConfiguration: cfg.authorizer,
			Description: cfg.description,
		}, opts...)
		if err != nil {
			return res, err
		}
		res.ID = aws.ToString(out.AgentRuntimeId)
	}
	got, err := waitReady(ctx, a, res.ID, t.timeout, prog)
	if err != nil {
		return res, err
	}
	res.ARN, res.Version, res.Status = aws.ToString(got.AgentRuntimeArn), aws.ToString(got.AgentRuntimeVersion), string(got.Status)
	res.Endpoint = a.endpoint
	return res, nil
}

// runtimeSettings are the optional parts of a runtime's configuration, in the SDK's types.
type runtimeSettings struct {
	network     *types.NetworkConfiguration
	headers     types.RequestHeaderConfiguration
	protocol    *types.ProtocolConfiguration
	lifecycle   *types.LifecycleConfiguration
	authorizer  types.AuthorizerConfiguration
	description *string
}

func runtimeConfig(t deployTarget) runtimeSettings {
	var s runtimeSettings
	s.network = &types.NetworkConfiguration{NetworkMode: types.NetworkModePublic}
	if n := t.Network; n != nil {
		s.network.NetworkMode = types.NetworkMode(n.Mode)
		if len(n.Subnets) > 0 || len(n.SecurityGroups) > 0 {
			s.network.NetworkModeConfig = &types.VpcConfig{Subnets: n.Subnets, SecurityGroups: n.SecurityGroups}
		}
	}
	if len(t.RequestHeaderAllowlist) > 0 {
		names := make([]string, len(t.RequestHeaderAllowlist))
		for i, h := range t.RequestHeaderAllowlist {
			names[i] = customHeaderName(h)
		}
		s.headers = &types.RequestHeaderConfigurationMemberRequestHeaderAllowlist{Value: names}
	}
	if t.Protocol != "" {
		s.protocol = &types.ProtocolConfiguration{ServerProtocol: types.ServerProtocol(t.Protocol)}
	}
	if l := t.Lifecycle; l != nil && (l.IdleRuntimeSessionTimeout != 0 || l.MaxLifetime != 0) {
		s.lifecycle = &types.LifecycleConfiguration{}
		if l.IdleRuntimeSessionTimeout != 0 {
			s.lifecycle.IdleRuntimeSessionTimeout = aws.Int32(l.IdleRuntimeSessionTimeout)
		}
		if l.MaxLifetime != 0 {
			s.lifecycle.MaxLifetime = aws.Int32(l.MaxLifetime)
		}
	}
	if a := t.Authorizer; a != nil && a.CustomJWTAuthorizer != nil {
		j := a.CustomJWTAuthorizer
		s.authorizer = &types.AuthorizerConfigurationMemberCustomJWTAuthorizer{Value: types.CustomJWTAuthorizerConfiguration{
			DiscoveryUrl: aws.String(j.DiscoveryURL), AllowedAudience: j.AllowedAudience, AllowedClients: j.AllowedClients, AllowedScopes: j.AllowedScopes,
		}}
	}
	if t.Description != "" {
		s.description = aws.String(t.Description)
	}
	return s
}

// parseEnv turns KEY=VALUE flags into a map (nil when there are none).
func parseEnv(kvs []string) (map[string]string, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	env := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, hintError{fmt.Errorf("--env %q is not KEY=VALUE", kv), "for example: --env GREETING=Hello"}
		}
		env[k] = v
	}
	return env, nil
}
