package dataplane

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/image"
	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/session"
)

// target builds what a new session of version v runs (AGENTCORE-WIRE.md §4.8): the launch
// command of the prepared artifact, and the environment — the image's own variables, then
// the platform's, then the version's environmentVariables, each layer overriding the one
// before.
func (a *API) target(_ context.Context, rt catalog.Runtime, ep catalog.Endpoint, v catalog.Version) (session.Target, error) {
	launch, err := image.ResolveLaunch(*v.Prepared, v.Config, a.opts.Interpreters)
	if err != nil {
		return session.Target{}, fmt.Errorf("prepare launch of %s version %d: %w", rt.ID, v.Number, err)
	}
	protocol, port, _ := catalog.EffectiveProtocol(v.Config)
	acct := a.svc.Account()
	resource := acct.RuntimeARN(rt.ID)
	if ep.Name != catalog.DefaultEndpoint {
		resource = acct.EndpointARN(rt.ID, ep.Name)
	}
	env := newEnv()
	if launch.RootFS == "" {
		// Code zips run with the host's tools, or the base's; give them a sane PATH and HOME.
		env.set("PATH", image.DefaultPath)
		if a.opts.HostFilesystem {
			env.set("PATH", hostPath())
		}
		env.set("HOME", "/tmp")
	}
	for _, kv := range launch.Env {
		env.setKV(kv)
	}
	env.set("AWS_REGION", a.opts.Region)
	env.set("AWS_DEFAULT_REGION", a.opts.Region)
	env.set("DOCKER_CONTAINER", "1")
	env.set("PORT", strconv.Itoa(port))
	env.set("OTEL_RESOURCE_ATTRIBUTES", "cloud.resource_id="+resource+",service.name="+rt.Name)
	env.set("OTEL_SERVICE_NAME", rt.Name) // the agent's spans name their runtime (internal/telemetry/agentotlp)
	env.set("AGENTCORE_RUNTIME_PROTOCOL", protocol)
	if u := runtimeURL(a.opts.PublicURL, acct.RuntimeARN(rt.ID), ep.Name); u != "" {
		env.set("AGENTCORE_RUNTIME_URL", u)
	}
	for k, val := range v.Config.EnvironmentVariables {
		env.set(k, val)
	}
	spec := sandbox.Spec{
		RootFS:  launch.RootFS,
		CodeDir: launch.CodeDir,
		Command: launch.Command,
		Env:     env.list(),
		WorkDir: launch.WorkDir,
		Ports:   []int{port},
		Limits:  sandbox.Limits{CPUs: a.opts.CPUs, MemoryBytes: a.opts.MemoryBytes},
		Network: a.egress(rt, v),
	}
	for _, w := range launch.Warnings {
		a.log.Warn("session launch", "runtime", rt.ID, "version", v.Number, "warning", w)
	}
	return session.Target{Runtime: rt, Version: v, Spec: spec, Port: port, Notices: launch.Warnings}, nil
}

// egress picks the network policy for a session: PUBLIC for networkMode PUBLIC, narrowed
// to ALLOWLIST when the runtime lists egressAllowlist domains (a Berth extension), NONE
// otherwise. If the driver cannot enforce that policy, the session gets NONE, with a
// warning: never more than the runtime asked for.
func (a *API) egress(rt catalog.Runtime, v catalog.Version) sandbox.NetworkPolicy {
	want := sandbox.NetworkPolicy{Mode: sandbox.NetworkNone}
	if cfg := v.Config.NetworkConfiguration; cfg != nil && cfg.NetworkMode == "PUBLIC" {
		want.Mode = sandbox.NetworkPublic
		if len(cfg.EgressAllowlist) > 0 {
			want = sandbox.NetworkPolicy{Mode: sandbox.NetworkAllowlist, AllowedDomains: slices.Clone(cfg.EgressAllowlist)}
		}
	}
	if want.Mode == sandbox.NetworkNone || slices.Contains(a.opts.Egress, want.Mode) {
		return want
	}
	a.log.Warn("the sandbox driver cannot provide the runtime's network mode; the session has no egress",
		"runtime", rt.ID, "version", v.Number, "network_mode", want.Mode)
	return sandbox.NetworkPolicy{Mode: sandbox.NetworkNone}
}

func hostPath() string {
	if p := os.Getenv("PATH"); p != "" {
		return p
	}
	return "/usr/local/bin:/usr/bin:/bin"
}

// envList is an ordered environment where later settings override earlier ones.
type envList struct {
	keys []string
	vals map[string]string
}

func newEnv() *envList { return &envList{vals: map[string]string{}} }

func (e *envList) set(k, v string) {
	if _, ok := e.vals[k]; !ok {
		e.keys = append(e.keys, k)
	}
	e.vals[k] = v
}

func (e *envList) setKV(kv string) {
	for i := 0; i < len(kv); i++ {
		if kv[i] == '=' {
			e.set(kv[:i], kv[i+1:])
			return
		}
	}
}

func (e *envList) list() []string {
	out := make([]string, 0, len(e.keys))
	for _, k := range e.keys {
		out = append(out, k+"="+e.vals[k])
	}
	return out
}
