package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"berth.dev/berth/internal/artifact"
	"berth.dev/berth/internal/artifact/objectstore"
	"berth.dev/berth/internal/artifact/registry"
	"berth.dev/berth/internal/auth"
	"berth.dev/berth/internal/config"
	"berth.dev/berth/internal/httpapi"
	"berth.dev/berth/internal/httpapi/controlplane"
	"berth.dev/berth/internal/httpapi/dataplane"
	"berth.dev/berth/internal/image"
	"berth.dev/berth/internal/metering"
)

// routes builds the one handler serving both planes, the object store and the registry:
//
//	/berth/v1/health  unauthenticated server health
//	/metrics          unauthenticated Prometheus metrics (telemetry.metrics; scrapers do not
//	                  sign requests, and the metrics carry counts and runtime ids only)
//	/s3/…             built-in object store (SigV4, service s3)
//	/v2/…             built-in OCI registry (HTTP basic auth with an access key)
//	everything else   AgentCore API (SigV4, service bedrock-agentcore)
func (s *Server) routes(keys *auth.KeyStore, objects *objectstore.Store, reg *registry.Registry) (http.Handler, error) {
	api := http.NewServeMux()
	controlplane.New(s.svc, s.log).Register(api)
	caps := s.driver.Capabilities()
	interpreters := image.BaseInterpreters()
	if caps.HostFilesystem {
		interpreters = image.HostInterpreters()
	}
	plane := dataplane.New(s.svc, s.sessions, s.db, s.log, dataplane.Options{
		Region:         s.cfg.Region,
		Interpreters:   interpreters,
		HostFilesystem: caps.HostFilesystem,
		CPUs:           s.cfg.Sandbox.CPUs,
		MemoryBytes:    s.cfg.Sandbox.MemoryBytes,
		Egress:         caps.Egress,
		PublicURL:      publicBaseURL(s.cfg, s.Addr()),
		Metrics:        s.metrics,
		Prices:         metering.Prices{CPUPerVCPUHour: s.cfg.Metering.CPUPricePerVCPUHour, MemoryPerGBHour: s.cfg.Metering.MemoryPricePerGBHour},
		JWT:            auth.NewJWTVerifier(nil),
	})
	plane.Register(api)
	api.Handle("GET /berth/v1/traces", dataplane.Traces(s.traceStore, s.tracer, s.log))
	s.plane.Store(plane)
	api.Handle("/", httpapi.UnknownOperation(s.log))

	agentcore, err := auth.NewSigV4(keys, auth.SigV4Options{Service: "bedrock-agentcore", Region: s.cfg.Region})
	if err != nil {
		return nil, fmt.Errorf("sigv4 verifier: %w", err)
	}
	s3auth, err := auth.NewSigV4(keys, auth.SigV4Options{Service: auth.ServiceS3, Region: s.cfg.Region})
	if err != nil {
		return nil, fmt.Errorf("sigv4 verifier for s3: %w", err)
	}

	root := http.NewServeMux()
	root.HandleFunc("GET /berth/v1/health", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"status": "ok"})
	})
	if s.metrics != nil && s.cfg.Telemetry.Metrics {
		root.Handle("GET /metrics", s.metrics.Handler())
	}
	root.Handle("/v2/", reg.Handler())
	root.Handle("/", httpapi.Authenticate(httpapi.TraceAuthenticator(auth.RuntimeDecides{SigV4: agentcore, Decides: runtimeDecidesAuth}), s.log, api))

	// S3 object keys may contain "..", "//" and "./" segments that ServeMux would clean and
	// redirect, so the object store is dispatched on the raw path before the mux.
	s3 := objects.Handler(s3Authenticator{s3auth})
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.EscapedPath(); p == "/s3" || strings.HasPrefix(p, "/s3/") {
			s3.ServeHTTP(w, r)
			return
		}
		root.ServeHTTP(w, r)
	})
	h = httpapi.AccessLog(s.log, h)
	h = httpapi.Recover(s.log, h)
	h = httpapi.Trace(s.tracer.TracerProvider(), h) // a server span per request
	h = httpapi.RequestID(h)
	return h, nil
}

// runtimeDecidesAuth reports the routes where the runtime decides how callers authenticate
// (bearer tokens for runtimes with a JWT authorizer, SigV4 otherwise): invocations,
// including MCP's GET/DELETE and the A2A agent card below them, and the WebSocket.
// The ARN segment is escaped (its "/" is %2F), as ServeMux matches it.
func runtimeDecidesAuth(r *http.Request) bool {
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), "/runtimes/")
	if !ok {
		return false
	}
	_, op, ok := strings.Cut(rest, "/")
	return ok && (op == "ws" || op == "invocations" || strings.HasPrefix(op, "invocations/"))
}

// basicAuth lets the registry check HTTP basic credentials against the access keys.
type basicAuth struct{ keys *auth.KeyStore }

func (b basicAuth) CheckBasic(ctx context.Context, id, secret string) error {
	_, err := b.keys.CheckBasic(ctx, id, secret)
	return err
}

// s3Authenticator adapts the SigV4 verifier to the object store's interface.
type s3Authenticator struct{ v *auth.SigV4 }

func (a s3Authenticator) Authenticate(r *http.Request) (*http.Request, error) {
	r2, _, err := a.v.Authenticate(r)
	return r2, err
}

// mapS3AuthError renders an authentication failure as S3's error code and status.
func mapS3AuthError(err error) (int, string, string) {
	var ae *auth.Error
	if errors.As(err, &ae) {
		return ae.Code.S3Status(), ae.Code.S3Code(), ae.Message
	}
	return http.StatusForbidden, "AccessDenied", "Access Denied"
}

// objectSource resolves code buckets: the built-in store, or an external S3 endpoint for
// the configured buckets.
func objectSource(cfg config.Config, builtin *objectstore.Store) (artifact.ObjectSource, error) {
	ext := cfg.Artifacts.ExternalS3
	if ext.Endpoint == "" {
		return builtin, nil
	}
	src, err := objectstore.NewExternal(objectstore.ExternalConfig{
		Endpoint: ext.Endpoint, Region: ext.Region, AccessKeyID: ext.AccessKeyID,
		SecretAccessKey: ext.SecretAccessKey, PathStyle: ext.PathStyle, Buckets: ext.Buckets,
	})
	if err != nil {
		return nil, err
	}
	return objectstore.NewRouter(builtin, src), nil
}

func parseHost(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	return strings.ToLower(u.Host), nil
}
