package cli

import (
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// configureFlags are berth configure's flags; each one given is a value not asked for.
type configureFlags struct {
	name, entrypoint, deploymentType, runtime, protocol, image, imageArchive, description string
	networkMode, discoveryURL, importFile, agent                                          string
	env, headers, audience, clients, egress                                               []string
	idleTimeout, maxLifetime                                                              int32
	nonInteractive                                                                        bool
}

// configureResult is what configure prints with -o json.
type configureResult struct {
	File         string   `json:"file"`
	Project      project  `json:"project"`
	ImportedFrom string   `json:"importedFrom,omitempty"`
	NotConverted []string `json:"notConverted,omitempty"`
}

func newConfigureCmd(g *globals, stdout io.Writer) *cobra.Command {
	var f configureFlags
	cmd := &cobra.Command{
		Use:   "configure [flags] | configure --import .bedrock_agentcore.yaml [--agent NAME]",
		Short: "Write the project file .berth.yaml (interactively, from flags, or from a starter-toolkit project)",
		Long: `Write .berth.yaml, the project file 'berth deploy', 'dev', 'invoke' and the other commands
read from the current directory. An existing .berth.yaml is the starting point, so running
configure again changes only what you change.

On a terminal, configure asks for every setting not given as a flag, showing the current
value in brackets: Enter keeps it, "-" clears a list. --non-interactive (or input that is
not a terminal) takes the flags and the defaults without asking.

The file (YAML; unknown keys are errors):

  version: 1
  name: hello                      # agent runtime name
  source: .                        # project directory, relative to the file
  entrypoint: main.py              # zip: the file that starts the agent; Go image: main package
  deploymentType: zip              # zip | image
  runtime: PYTHON_3_11             # zip: PYTHON_3_10…PYTHON_3_14, NODE_18, NODE_20, NODE_22
  image: REF                       # image: deploy this reference as it is, or
  imageArchive: ./oci-layout       # image: push this OCI layout / docker-archive, else
                                   #        build the Go module without Docker
  protocol: HTTP                   # HTTP | MCP | A2A | AGUI
  env: {GREETING: Hi}
  lifecycle: {idleRuntimeSessionTimeout: 900, maxLifetime: 28800}
  requestHeaderAllowlist: [X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant]
  authorizer:
    customJWTAuthorizer: {discoveryUrl: https://idp/.well-known/openid-configuration,
                          allowedAudience: [api], allowedClients: [app]}
  network: {mode: PUBLIC, egressAllowlist: [api.openai.com]}   # mode PUBLIC | VPC
  executionRole: arn:aws:iam::000000000000:role/BerthAgent
  bucket: berth-agents

--import converts a project file of AgentCore's starter toolkit (.bedrock_agentcore.yaml):
the agent named by --agent, else its default_agent. What has no Berth equivalent (ECR,
CodeBuild, memory, identity, observability, other agents, …) is listed as not converted.`,
		Example: `  berth configure
  berth configure --non-interactive --name hello --entrypoint main.py --runtime PYTHON_3_12
  berth configure --non-interactive --name web --deployment-type image --image-archive ./oci-layout
  berth configure --import .bedrock_agentcore.yaml --agent my_agent`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			asJSON, err := g.json()
			if err != nil {
				return err
			}
			res, err := configure(f, cmd.Flags(), cmd.InOrStdin(), cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(stdout, res)
			}
			p := res.Project
			what := p.DeploymentType
			switch {
			case p.DeploymentType == deployZip:
				what += ", " + p.Runtime
			case p.Image != "":
				what += " " + p.Image
			case p.ImageArchive != "":
				what += " from " + p.ImageArchive
			default:
				what += " built from the Go module"
			}
			if res.ImportedFrom != "" {
				fmt.Fprintf(stdout, "Imported agent %s from %s\n", p.Name, res.ImportedFrom)
			}
			fmt.Fprintf(stdout, "Wrote %s: %s (%s, entry point %s)\n", res.File, p.Name, what, p.Entrypoint)
			if len(res.NotConverted) > 0 {
				fmt.Fprintln(stdout, "Not converted:")
				for _, n := range res.NotConverted {
					fmt.Fprintln(stdout, "  -", n)
				}
			}
			fmt.Fprintln(stdout, "Next: 'berth dev' runs it locally, 'berth deploy' deploys it.")
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.name, "name", "", "agent runtime name (default: the directory's name)")
	fl.StringVar(&f.entrypoint, "entrypoint", "", "file that starts the agent (zip), or Go main package (image)")
	fl.StringVar(&f.deploymentType, "deployment-type", "", "zip or image")
	fl.StringVar(&f.runtime, "runtime", "", "managed runtime of a zip: "+strings.Join(codeRuntimes, ", "))
	fl.StringVar(&f.image, "image", "", "image type: deploy this image reference as it is")
	fl.StringVar(&f.imageArchive, "image-archive", "", "image type: push and deploy this OCI layout directory or docker-archive tarball")
	fl.StringVar(&f.protocol, "protocol", "", "server protocol: "+strings.Join(protocols, ", "))
	fl.StringVar(&f.description, "description", "", "runtime description")
	fl.StringArrayVar(&f.env, "env", nil, "environment variable KEY=VALUE (repeatable)")
	fl.Int32Var(&f.idleTimeout, "idle-timeout", 0, "lifecycle idleRuntimeSessionTimeout in seconds (60–28800)")
	fl.Int32Var(&f.maxLifetime, "max-lifetime", 0, "lifecycle maxLifetime in seconds (60–28800)")
	fl.StringSliceVar(&f.headers, "request-header-allowlist", nil, "request headers the agent receives (comma-separated; bare names get the "+customHeaderPrefix+" prefix at deploy)")
	fl.StringVar(&f.discoveryURL, "authorizer-discovery-url", "", "customJWTAuthorizer discoveryUrl (OIDC .well-known URL; empty removes the authorizer)")
	fl.StringSliceVar(&f.audience, "allowed-audience", nil, "customJWTAuthorizer allowedAudience (comma-separated)")
	fl.StringSliceVar(&f.clients, "allowed-clients", nil, "customJWTAuthorizer allowedClients (comma-separated)")
	fl.StringVar(&f.networkMode, "network-mode", "", "PUBLIC or VPC")
	fl.StringSliceVar(&f.egress, "egress-allowlist", nil, "with PUBLIC, the only domains sessions may reach (comma-separated; *.example.com allowed)")
	fl.BoolVar(&f.nonInteractive, "non-interactive", false, "ask nothing: flags and defaults only")
	fl.StringVar(&f.importFile, "import", "", "convert this starter-toolkit .bedrock_agentcore.yaml")
	fl.StringVar(&f.agent, "agent", "", "with --import: the agent to convert (default: default_agent)")
	return cmd
}

func configure(f configureFlags, fl *pflag.FlagSet, in io.Reader, prompts io.Writer) (configureResult, error) {
	res := configureResult{File: projectFile}
	var p project
	switch {
	case f.importFile != "":
		imp, err := importToolkit(f.importFile, f.agent)
		if err != nil {
			return res, err
		}
		p, res.ImportedFrom, res.NotConverted = imp.project, f.importFile, imp.notConverted
	default:
		existing, ok, err := loadProject()
		if err != nil {
			return res, err
		}
		if ok {
			p = existing
		} else {
			p = defaultProject()
		}
	}
	if err := applyConfigureFlags(&p, f, fl); err != nil {
		return res, err
	}
	if !f.nonInteractive && isTerminal(in) {
		if err := askProject(&p, fl, newPrompter(in, prompts)); err != nil {
			return res, err
		}
	}
	normalizeProject(&p)
	if err := p.validate(); err != nil {
		return res, hintError{err, "fix the value; 'berth configure --help' describes every setting"}
	}
	if err := p.save(projectFile); err != nil {
		return res, err
	}
	res.Project = p
	return res, nil
}

// defaultProject is a new project for the current directory: named after it, with the
// usual entry file, a zip on Python 3.11 (Node.js 22 for a .js entry point), or a Go
// image for a Go module without one.
func defaultProject() project {
	p := project{Version: 1, DeploymentType: deployZip, Protocol: "HTTP", Network: &network{Mode: "PUBLIC"}}
	if wd, err := os.Getwd(); err == nil {
		p.Name = nameFrom(filepath.Base(wd))
	}
	p.Entrypoint = guessEntry(".")
	switch {
	case p.Entrypoint == "" && fileExists("go.mod"):
		p.DeploymentType, p.Entrypoint = deployImage, "."
	case isNodeEntry(p.Entrypoint):
		p.Runtime = "NODE_22"
	default:
		p.Runtime = defaultRuntime
		if p.Entrypoint == "" {
			p.Entrypoint = defaultEntrypoint
		}
	}
	return p
}

// nameFrom turns a directory name into a runtime name: letters, digits and underscores,
// starting with a letter.
func nameFrom(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9' && b.Len() > 0:
			b.WriteRune(r)
		case b.Len() > 0:
			b.WriteByte('_')
		}
	}
	out := strings.Trim(b.String(), "_")
	if len(out) > 48 {
		out = out[:48]
	}
	if out == "" {
		out = "agent"
	}
	return out
}

// applyConfigureFlags sets every value given as a flag.
func applyConfigureFlags(p *project, f configureFlags, fl *pflag.FlagSet) error {
	set := func(name string, dst *string, v string) {
		if fl.Changed(name) {
			*dst = v
		}
	}
	set("name", &p.Name, f.name)
	set("entrypoint", &p.Entrypoint, f.entrypoint)
	set("deployment-type", &p.DeploymentType, strings.ToLower(f.deploymentType))
	set("runtime", &p.Runtime, strings.ToUpper(f.runtime))
	set("protocol", &p.Protocol, strings.ToUpper(f.protocol))
	set("description", &p.Description, f.description)
	if fl.Changed("image") {
		p.DeploymentType, p.Image, p.ImageArchive = deployImage, f.image, ""
	}
	if fl.Changed("image-archive") {
		p.DeploymentType, p.Image, p.ImageArchive = deployImage, "", f.imageArchive
	}
	if fl.Changed("env") {
		env, err := parseEnv(f.env)
		if err != nil {
			return err
		}
		p.Env = env
	}
	if fl.Changed("idle-timeout") || fl.Changed("max-lifetime") {
		if p.Lifecycle == nil {
			p.Lifecycle = &lifecycle{}
		}
		if fl.Changed("idle-timeout") {
			p.Lifecycle.IdleRuntimeSessionTimeout = f.idleTimeout
		}
		if fl.Changed("max-lifetime") {
			p.Lifecycle.MaxLifetime = f.maxLifetime
		}
	}
	if fl.Changed("request-header-allowlist") {
		p.RequestHeaderAllowlist = f.headers
	}
	if fl.Changed("authorizer-discovery-url") || fl.Changed("allowed-audience") || fl.Changed("allowed-clients") {
		if p.Authorizer == nil || p.Authorizer.CustomJWTAuthorizer == nil {
			p.Authorizer = &authorizer{CustomJWTAuthorizer: &jwtAuthorizer{}}
		}
		j := p.Authorizer.CustomJWTAuthorizer
		set("authorizer-discovery-url", &j.DiscoveryURL, f.discoveryURL)
		if fl.Changed("allowed-audience") {
			j.AllowedAudience = f.audience
		}
		if fl.Changed("allowed-clients") {
			j.AllowedClients = f.clients
		}
		if fl.Changed("authorizer-discovery-url") && f.discoveryURL == "" {
			p.Authorizer = nil // an empty discovery URL removes the authorizer
		}
	}
	if fl.Changed("network-mode") || fl.Changed("egress-allowlist") {
		if p.Network == nil {
			p.Network = &network{Mode: "PUBLIC"}
		}
		set("network-mode", &p.Network.Mode, strings.ToUpper(f.networkMode))
		if fl.Changed("egress-allowlist") {
			p.Network.EgressAllowlist = f.egress
		}
	}
	return nil
}

// askProject asks for every setting no flag gave.
func askProject(p *project, fl *pflag.FlagSet, q *prompter) error {
	var err error
	ask := func(flag string, fn func() error) {
		if err == nil && !fl.Changed(flag) {
			err = fn()
		}
	}
	ask("name", func() (e error) { p.Name, e = q.line("Agent name", p.Name); return })
	ask("deployment-type", func() (e error) {
		p.DeploymentType, e = q.choice("Deployment type", p.DeploymentType, []string{deployZip, deployImage})
		return
	})
	if p.DeploymentType == deployZip {
		ask("entrypoint", func() (e error) { p.Entrypoint, e = q.line("Entry point file", p.Entrypoint); return })
		if p.Runtime == "" {
			p.Runtime = defaultRuntime
			if isNodeEntry(p.Entrypoint) {
				p.Runtime = "NODE_22"
			}
		}
		ask("runtime", func() (e error) { p.Runtime, e = q.choice("Runtime", p.Runtime, codeRuntimes); return })
		p.Image, p.ImageArchive = "", ""
	} else {
		p.Runtime = ""
		if !fl.Changed("image") && !fl.Changed("image-archive") {
			cur := p.Image
			if cur == "" {
				cur = p.ImageArchive
			}
			var src string
			if src, err = q.line("Image reference or OCI layout/docker-archive path (- to build the Go module)", cur); err != nil {
				return err
			}
			switch {
			case src == "" || src == "-":
				p.Image, p.ImageArchive = "", ""
			case fileOrDirExists(src):
				p.Image, p.ImageArchive = "", src
			default:
				p.Image, p.ImageArchive = src, ""
			}
		}
		if p.Image == "" && p.ImageArchive == "" {
			if p.Entrypoint == "" || strings.Contains(filepath.Base(p.Entrypoint), ".") && p.Entrypoint != "." {
				p.Entrypoint = "."
			}
			ask("entrypoint", func() (e error) { p.Entrypoint, e = q.line("Go main package", p.Entrypoint); return })
		}
	}
	ask("protocol", func() (e error) {
		p.Protocol, e = q.choice("Protocol", orDefault(p.Protocol, "HTTP"), protocols)
		return
	})
	ask("env", func() error {
		cur := make([]string, 0, len(p.Env))
		for _, k := range slices.Sorted(maps.Keys(p.Env)) {
			cur = append(cur, k+"="+p.Env[k])
		}
		kvs, e := q.list("Environment KEY=VALUE", cur)
		if e != nil {
			return e
		}
		p.Env, e = parseEnv(kvs)
		return e
	})
	if p.Lifecycle == nil {
		p.Lifecycle = &lifecycle{}
	}
	ask("idle-timeout", func() (e error) {
		p.Lifecycle.IdleRuntimeSessionTimeout, e = q.seconds("Idle session timeout", p.Lifecycle.IdleRuntimeSessionTimeout)
		return
	})
	ask("max-lifetime", func() (e error) {
		p.Lifecycle.MaxLifetime, e = q.seconds("Session max lifetime", p.Lifecycle.MaxLifetime)
		return
	})
	ask("request-header-allowlist", func() (e error) {
		p.RequestHeaderAllowlist, e = q.list("Request headers the agent receives", p.RequestHeaderAllowlist)
		return
	})
	ask("authorizer-discovery-url", func() error {
		cur := ""
		if p.Authorizer != nil && p.Authorizer.CustomJWTAuthorizer != nil {
			cur = p.Authorizer.CustomJWTAuthorizer.DiscoveryURL
		}
		u, e := q.line("JWT authorizer discovery URL (- for none: SigV4 only)", cur)
		if e != nil {
			return e
		}
		if u == "" || u == "-" {
			p.Authorizer = nil
			return nil
		}
		if p.Authorizer == nil || p.Authorizer.CustomJWTAuthorizer == nil {
			p.Authorizer = &authorizer{CustomJWTAuthorizer: &jwtAuthorizer{}}
		}
		j := p.Authorizer.CustomJWTAuthorizer
		j.DiscoveryURL = u
		if !fl.Changed("allowed-audience") {
			if j.AllowedAudience, e = q.list("Allowed audiences", j.AllowedAudience); e != nil {
				return e
			}
		}
		if !fl.Changed("allowed-clients") {
			j.AllowedClients, e = q.list("Allowed clients", j.AllowedClients)
		}
		return e
	})
	if p.Network == nil {
		p.Network = &network{Mode: "PUBLIC"}
	}
	ask("network-mode", func() (e error) { p.Network.Mode, e = q.choice("Network mode", p.Network.Mode, networkModes); return })
	if p.Network.Mode == "PUBLIC" {
		ask("egress-allowlist", func() (e error) {
			p.Network.EgressAllowlist, e = q.list("Egress allowlist (domains; - for the whole internet)", p.Network.EgressAllowlist)
			return
		})
	}
	return err
}

// normalizeProject drops empty optional parts so the file stays short.
func normalizeProject(p *project) {
	if p.Version == 0 {
		p.Version = 1
	}
	if l := p.Lifecycle; l != nil && l.IdleRuntimeSessionTimeout == 0 && l.MaxLifetime == 0 {
		p.Lifecycle = nil
	}
	if len(p.Env) == 0 {
		p.Env = nil
	}
	if p.DeploymentType == deployImage {
		p.Runtime = ""
	}
	if p.Network != nil && p.Network.Mode == "PUBLIC" && len(p.Network.EgressAllowlist) == 0 && len(p.Network.Subnets) == 0 && len(p.Network.SecurityGroups) == 0 {
		p.Network = &network{Mode: "PUBLIC"}
	}
	if a := p.Authorizer; a != nil && a.CustomJWTAuthorizer != nil && a.CustomJWTAuthorizer.DiscoveryURL == "" &&
		len(a.CustomJWTAuthorizer.AllowedAudience) == 0 && len(a.CustomJWTAuthorizer.AllowedClients) == 0 {
		p.Authorizer = nil
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func fileOrDirExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
