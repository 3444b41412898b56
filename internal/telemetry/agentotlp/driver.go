package agentotlp

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"berth.dev/berth/internal/sandbox"
)

// Addr is where the endpoint listens inside each sandbox, and Endpoint what the agent is told.
const (
	Addr     = "127.0.0.1:4318"
	Endpoint = "http://" + Addr
)

// agentEnv is set for the agent unless its environment sets the variable already.
var agentEnv = [][2]string{
	{"OTEL_EXPORTER_OTLP_ENDPOINT", Endpoint},
	{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"},
}

// drainTimeout bounds how long stopping a sandbox waits for the agent's export requests in
// flight.
const drainTimeout = 2 * time.Second

// Wrap returns a driver that starts d's sandboxes with the OTLP endpoint of rc inside, or d
// itself when d's sandboxes cannot be listened in (it does not implement
// sandbox.ListenerDriver). The returned driver keeps d's optional Reclaimer, and its
// sandboxes their Execer.
func Wrap(d sandbox.Driver, rc *Receiver) sandbox.Driver {
	if ld, ok := d.(sandbox.ListenerDriver); !ok || !ld.SandboxesListen() {
		return d
	}
	w := &otlpDriver{Driver: d, rc: rc}
	if r, ok := d.(sandbox.Reclaimer); ok {
		return &otlpReclaimDriver{otlpDriver: w, Reclaimer: r}
	}
	return w
}

// otlpDriver is a driver whose sandboxes serve the OTLP endpoint.
type otlpDriver struct {
	sandbox.Driver
	rc *Receiver
}

type otlpReclaimDriver struct {
	*otlpDriver
	sandbox.Reclaimer
}

// Start starts the sandbox with the agent told about the endpoint, then listens inside it.
// A sandbox that cannot be listened in still runs, with a warning: its agent's exports fail.
func (d *otlpDriver) Start(ctx context.Context, spec sandbox.Spec) (sandbox.Sandbox, error) {
	spec.Env = withAgentEnv(spec.Env)
	sb, err := d.Driver.Start(ctx, spec)
	if err != nil {
		return nil, err
	}
	l, ok := sb.(sandbox.Listener)
	if !ok {
		return sb, nil
	}
	ln, err := l.Listen(ctx, "tcp", Addr)
	if err != nil {
		d.rc.logger().WarnContext(ctx, "agent OTLP endpoint unavailable", "sandbox", sb.ID(), "err", err)
		return sb, nil
	}
	srv := &http.Server{Handler: d.rc.Handler(sb.ID()), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	served := make(chan struct{})
	go func() {
		defer close(served)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.rc.logger().Warn("agent OTLP endpoint stopped", "sandbox", sb.ID(), "err", err)
		}
	}()
	w := &otlpSandbox{Sandbox: sb, srv: srv, served: served}
	if ex, ok := sb.(sandbox.Execer); ok {
		return &otlpExecSandbox{otlpSandbox: w, Execer: ex}, nil
	}
	return w, nil
}

// withAgentEnv returns env with the endpoint variables added where env lacks them.
func withAgentEnv(env []string) []string {
	out := slices.Clone(env)
	for _, kv := range agentEnv {
		if !slices.ContainsFunc(env, func(e string) bool { return strings.HasPrefix(e, kv[0]+"=") }) {
			out = append(out, kv[0]+"="+kv[1])
		}
	}
	return out
}

// otlpSandbox is a sandbox with the endpoint's server, which Stop closes.
type otlpSandbox struct {
	sandbox.Sandbox
	srv    *http.Server
	served chan struct{} // closed when Serve returned

	once sync.Once
}

type otlpExecSandbox struct {
	*otlpSandbox
	sandbox.Execer
}

// Stop stops the sandbox — its agent may still export while it exits — and then the
// endpoint, whose socket would otherwise keep the sandbox's network namespace alive.
func (s *otlpSandbox) Stop(ctx context.Context) error {
	err := s.Sandbox.Stop(ctx)
	s.once.Do(func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drainTimeout)
		defer cancel()
		if s.srv.Shutdown(dctx) != nil {
			_ = s.srv.Close()
		}
		<-s.served
	})
	return err
}
