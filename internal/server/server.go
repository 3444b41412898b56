// Package server is Berth's composition root: it turns a validated config into running
// subsystems — store, keys, object store, registry, artifact preparation, control service,
// HTTP API — in a fixed start order, and shuts them down in reverse on context cancellation.
// Only cmd/berth (through internal/cli) and tests use it.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"berth.dev/berth/internal/artifact/objectstore"
	"berth.dev/berth/internal/artifact/registry"
	"berth.dev/berth/internal/auth"
	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/config"
	"berth.dev/berth/internal/control"
	"berth.dev/berth/internal/httpapi"
	"berth.dev/berth/internal/httpapi/dataplane"
	"berth.dev/berth/internal/image"
	"berth.dev/berth/internal/metering"
	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/secret"
	"berth.dev/berth/internal/session"
	"berth.dev/berth/internal/sessionlog"
	"berth.dev/berth/internal/sessionlog/logexport"
	"berth.dev/berth/internal/store/sqlite"
	"berth.dev/berth/internal/telemetry"
	"berth.dev/berth/internal/telemetry/tracestore"
	"berth.dev/berth/internal/telemetry/tracing"
)

// Server is a running Berth server.
type Server struct {
	cfg      config.Config
	log      *slog.Logger
	db       *sqlite.DB
	meter    *metering.Meter
	metrics  *telemetry.Metrics // nil when telemetry.metrics is off
	svc      *control.Service
	sessions *session.Manager
	// plane is the data plane, set once routes are built: the control service's endpoint
	// hooks fire from its workers, possibly before then.
	plane   atomic.Pointer[dataplane.API]
	driver  sandbox.Driver
	http    *http.Server
	ln      net.Listener
	closers []func() error // run in reverse on shutdown
	// cancelRequests cancels every request's context (their BaseContext).
	cancelRequests context.CancelFunc

	// traceStore keeps recent spans; tracer makes and exports them (tracing.go).
	traceStore *tracestore.Store
	tracer     *tracing.Provider
}

// New opens every subsystem and binds the listener; it serves nothing until Run. On error,
// whatever was opened is closed again.
func New(ctx context.Context, cfg config.Config, logger *slog.Logger) (_ *Server, err error) {
	// Request-scoped lines carry the request id, runtime and session; secrets are redacted.
	logger = slog.New(telemetry.ContextHandler(logger.Handler(), httpapi.RequestIDFrom))
	s := &Server{cfg: cfg, log: logger}
	defer func() {
		if err != nil {
			_ = s.close()
		}
	}()
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	keyring, err := secret.LoadOrCreateKeyring(filepath.Join(cfg.DataDir, "secret.key"))
	if err != nil {
		return nil, fmt.Errorf("load secret key: %w", err)
	}
	s.db, err = sqlite.Open(ctx, filepath.Join(cfg.DataDir, "berth.db"), logger.With("component", "store"))
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	s.closers = append(s.closers, s.db.Close)

	keyID, created, err := auth.EnsureAdminKey(ctx, s.db, keyring, cfg.AccountID, cfg.Region, cfg.CredentialsPath())
	if err != nil {
		return nil, fmt.Errorf("admin access key: %w", err)
	}
	if created {
		logger.InfoContext(ctx, "created admin access key", "access_key_id", keyID, "credentials", cfg.CredentialsPath())
	}
	keys := auth.NewKeyStore(s.db, keyring, auth.KeyStoreOptions{})

	objects, err := objectstore.New(s.db, filepath.Join(cfg.DataDir, "objects"), logger.With("component", "objectstore"), objectstore.Options{MapAuthError: mapS3AuthError})
	if err != nil {
		return nil, fmt.Errorf("open object store: %w", err)
	}
	if n, err := objects.CollectGarbage(ctx); err != nil {
		logger.WarnContext(ctx, "object store garbage collection", "err", err)
	} else if n > 0 {
		logger.InfoContext(ctx, "removed unreferenced object blobs", "count", n)
	}
	reg, err := registry.New(s.db, filepath.Join(cfg.DataDir, "registry"), logger.With("component", "registry"), basicAuth{keys})
	if err != nil {
		return nil, fmt.Errorf("open registry: %w", err)
	}
	source, err := objectSource(cfg, objects)
	if err != nil {
		return nil, err
	}

	s.ln, err = net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	s.closers = append(s.closers, func() error {
		if err := s.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			return err
		}
		return nil
	})

	prep, err := image.New(filepath.Join(cfg.DataDir, "cache"), source, reg, image.Options{
		LocalHosts:         localHosts(cfg, s.ln.Addr().String()),
		InsecureRegistries: cfg.Artifacts.InsecureRegistries,
		MaxZipBytes:        cfg.Artifacts.MaxZipBytes,
		MaxUnzippedBytes:   cfg.Artifacts.MaxUnzippedBytes,
		GCGrace:            cfg.Artifacts.GCGrace,
	}, logger.With("component", "image"))
	if err != nil {
		return nil, fmt.Errorf("artifact preparer: %w", err)
	}
	network, err := s.egress(ctx, cfg, logger)
	if err != nil {
		return nil, err
	}
	s.driver, err = selectDriver(cfg, network, logger)
	if err != nil {
		return nil, err
	}
	if err := s.startTracing(ctx); err != nil {
		return nil, err
	}
	driver := s.withAgentOTLP(s.driver) // tracing.go: the agents' OTLP endpoint in every sandbox
	if err := s.startMetrics(ctx); err != nil {
		return nil, err
	}
	meter, err := s.startMeter(ctx)
	if err != nil {
		return nil, err
	}
	var logExport sessionlog.Exporter // agent output as OTLP logs, when telemetry.otlpEndpoint is set
	if cfg.Telemetry.OTLPEndpoint != "" {
		exp, err := logexport.New(ctx, logexport.Options{Endpoint: cfg.Telemetry.OTLPEndpoint, Headers: cfg.Telemetry.OTLPHeaders})
		if err != nil {
			return nil, err
		}
		s.closers = append(s.closers, func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return exp.Shutdown(ctx)
		})
		logExport = exp
	}
	logs, err := sessionlog.New(sessionlog.Options{Dir: cfg.SessionLogDir(), MaxBytesPerSession: cfg.Logs.MaxBytesPerSession,
		MaxAge: cfg.Logs.MaxAge, MaxTotalBytes: cfg.Logs.MaxTotalBytes, Exporter: logExport, Logger: logger.With("component", "sessionlog")})
	if err != nil {
		return nil, err
	}
	logs.Start(ctx) // the retention sweeper
	s.closers = append(s.closers, logs.Close)
	s.sessions, err = session.New(session.Options{
		OnStart:         meter.started,
		OnEnd:           meter.ended,
		Driver:          driver,
		Store:           s.db,
		Logger:          logger.With("component", "session"),
		Logs:            logs,
		MaxSessions:     cfg.Sessions.MaxSessions,
		InitTimeout:     cfg.Sessions.InitTimeout,
		PingInterval:    cfg.Sessions.PingInterval,
		PoolSize:        cfg.Sessions.PoolSize,
		PoolMemoryBytes: cfg.Sessions.PoolMemoryBytes,
		PoolIdle:        cfg.Sessions.PoolIdle,
	})
	if err != nil {
		return nil, fmt.Errorf("session manager: %w", err)
	}
	if err := s.sessions.Start(ctx); err != nil {
		return nil, fmt.Errorf("start session manager: %w", err)
	}
	s.closers = append(s.closers, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return s.sessions.Close(ctx)
	})

	account := catalog.Account{Partition: "aws", Region: cfg.Region, ID: cfg.AccountID}
	s.svc = control.NewService(s.db, account, prep, logger.With("component", "control"), control.ServiceOptions{
		Workers:        cfg.Artifacts.PrepareWorkers,
		PrepareTimeout: cfg.Artifacts.PrepareTimeout,
		FailureReason:  image.FailureReason,
		OnRuntimeDeleted: func(ctx context.Context, runtimeID string) {
			s.sessions.StopRuntime(ctx, runtimeID, session.ReasonRuntimeDeleted)
		},
		OnEndpointLive:    func(_ context.Context, runtimeID, endpoint string) { s.endpointLive(runtimeID, endpoint) },
		OnEndpointDeleted: func(_ context.Context, runtimeID, endpoint string) { s.endpointDeleted(runtimeID, endpoint) },
	})
	if err := s.svc.Start(ctx); err != nil {
		return nil, fmt.Errorf("start control service: %w", err)
	}
	s.closers = append(s.closers, func() error { s.svc.Close(); return nil })

	handler, err := s.routes(keys, objects, reg)
	if err != nil {
		return nil, err
	}
	baseCtx, cancelRequests := context.WithCancel(context.WithoutCancel(ctx))
	s.cancelRequests = cancelRequests
	s.http = &http.Server{
		Handler:           telemetry.LogFields(handler),
		ReadHeaderTimeout: 30 * time.Second,
		// Idle keep-alive connections are closed; no ReadTimeout, which would cut long
		// uploads and streams.
		IdleTimeout: 2 * time.Minute,
		BaseContext: func(net.Listener) context.Context { return baseCtx },
		ErrorLog:    slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	s.http.RegisterOnShutdown(logs.EndFollows) // open `berth logs -f` streams end at once
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Run serves until ctx is cancelled, then shuts down gracefully: stop accepting, let
// in-flight requests finish (up to 30 s), stop workers, close the store.
func (s *Server) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.ln) }()
	s.log.InfoContext(ctx, "berth server started", "addr", s.Addr(), "data_dir", s.cfg.DataDir, "region", s.cfg.Region)
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	s.log.InfoContext(ctx, "shutting down")
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := s.http.Shutdown(shutCtx); err != nil {
		// Streams still open after the grace period: cancel their requests and close their
		// connections before the subsystems they use go away.
		s.log.WarnContext(ctx, "graceful shutdown incomplete; closing open connections", "err", err)
		s.cancelRequests()
		_ = s.http.Close()
	}
	s.cancelRequests()
	closeErr := s.close()
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", serveErr)
	}
	return closeErr
}

func (s *Server) close() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i]())
	}
	s.closers = nil
	return errors.Join(errs...)
}

// localHosts are the registry hosts that mean "this server's own registry".
func localHosts(cfg config.Config, bound string) []string {
	hosts := []string{cfg.Listen, bound}
	if _, port, err := net.SplitHostPort(bound); err == nil {
		hosts = append(hosts, "localhost:"+port, "127.0.0.1:"+port)
	}
	if cfg.PublicURL != "" {
		if u, err := parseHost(cfg.PublicURL); err == nil {
			hosts = append(hosts, u)
		}
	}
	return hosts
}
