package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// DefaultMaxBodyBytes is InvokeAgentRuntime's payload limit.
const DefaultMaxBodyBytes = 100_000_000

// DefaultWebSocketReadLimit is the largest WebSocket message accepted by default.
const DefaultWebSocketReadLimit = 16 << 20

// Handler handles one invocation. See the package documentation for how its result is
// turned into a response.
type Handler func(ctx context.Context, req Request) (any, error)

// WebSocketHandler serves one accepted WebSocket connection on /ws. When it returns nil
// the connection is closed normally (1000); an error closes it with 1011.
type WebSocketHandler func(ctx context.Context, conn *websocket.Conn) error

// App is an agent: an [http.Handler] for /invocations, /ping and /ws.
type App struct {
	handler    Handler
	ping       func(context.Context) Status
	ws         WebSocketHandler
	wsOpts     *websocket.AcceptOptions
	wsLimit    int64
	maxBody    int64
	rawPayload bool
	log        *slog.Logger
	mux        *http.ServeMux

	mu         sync.Mutex
	forced     Status
	tasks      map[uint64]Task
	nextTask   uint64
	lastStatus Status
	lastChange time.Time
}

// Option configures an [App].
type Option func(*App)

// WithPing replaces the automatic ping status (HealthyBusy iff a [App.Busy] task is open)
// with f's answer. [App.ForceStatus] still wins over f.
func WithPing(f func(ctx context.Context) Status) Option { return func(a *App) { a.ping = f } }

// WithWebSocket serves WebSocket connections on /ws with h.
func WithWebSocket(h WebSocketHandler) Option { return func(a *App) { a.ws = h } }

// WithWebSocketAcceptOptions replaces the options used to accept /ws connections (by
// default origin checks are skipped: the platform in front authenticates callers).
func WithWebSocketAcceptOptions(o *websocket.AcceptOptions) Option {
	return func(a *App) { a.wsOpts = o }
}

// WithWebSocketReadLimit sets the largest WebSocket message accepted (default 16 MiB).
func WithWebSocketReadLimit(n int64) Option { return func(a *App) { a.wsLimit = n } }

// WithMaxBodyBytes sets the largest accepted request body; larger bodies get 413.
func WithMaxBodyBytes(n int64) Option { return func(a *App) { a.maxBody = n } }

// WithRawPayload passes bodies that are not JSON to the handler instead of answering 400.
func WithRawPayload() Option { return func(a *App) { a.rawPayload = true } }

// WithLogger sets the logger (default: JSON lines on stderr).
func WithLogger(l *slog.Logger) Option { return func(a *App) { a.log = l } }

var allowed = map[string]string{"/invocations": "POST", "/ping": "GET, HEAD", "/ws": "GET"}

// New returns an agent whose invocations are handled by h.
func New(h Handler, opts ...Option) *App {
	a := &App{
		handler:    h,
		wsOpts:     &websocket.AcceptOptions{InsecureSkipVerify: true},
		wsLimit:    DefaultWebSocketReadLimit,
		maxBody:    DefaultMaxBodyBytes,
		tasks:      map[uint64]Task{},
		lastStatus: Healthy,
		lastChange: time.Now(),
	}
	for _, o := range opts {
		o(a)
	}
	if a.log == nil {
		a.log = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	a.mux = http.NewServeMux()
	a.mux.HandleFunc("POST /invocations", a.serveInvocation)
	a.mux.HandleFunc("GET /ping", a.servePing)
	a.mux.HandleFunc("GET /ws", a.serveWebSocket)
	a.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if allow, ok := allowed[r.URL.Path]; ok {
			w.Header().Set("Allow", allow)
			writeJSON(w, http.StatusMethodNotAllowed, errorBody("Method Not Allowed"))
			return
		}
		writeJSON(w, http.StatusNotFound, errorBody("Not Found"))
	})
	return a
}

// ServeHTTP implements [http.Handler].
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// Addr returns the address the runtime contract asks agents to listen on:
// 0.0.0.0:$PORT, or 0.0.0.0:8080 when PORT is unset.
func Addr() string {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	return net.JoinHostPort("0.0.0.0", port)
}

// ListenAndServe serves on [Addr] until ctx is cancelled, then shuts down gracefully
// (waiting up to 10 s for running invocations).
func (a *App) ListenAndServe(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", Addr())
	if err != nil {
		return fmt.Errorf("agent: listen: %w", err)
	}
	return a.Serve(ctx, ln)
}

// Serve serves on ln until ctx is cancelled; it closes ln.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           a,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       120 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	a.log.Info("agent listening", "addr", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("agent: serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("agent: shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("agent: serve: %w", err)
	}
	return nil
}
