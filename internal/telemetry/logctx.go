package telemetry

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// Keys of the request-scoped fields ContextHandler adds to log lines. The session
// manager's own lines use the same keys.
const (
	LogKeyRequestID = "request_id"
	LogKeyRuntime   = "runtime"
	LogKeyEndpoint  = "endpoint"
	LogKeySession   = "session"
)

// logFields are a request's runtime, endpoint and session, learnt while it is handled.
type logFields struct {
	mu                         sync.Mutex
	runtime, endpoint, session string
}

type logFieldsKey struct{}

// WithLogFields returns ctx carrying an empty set of log fields that SetLogRuntime and
// SetLogSession fill in; log lines made with ctx, or a context derived from it, carry them
// (ContextHandler). LogFields does this for every request.
func WithLogFields(ctx context.Context) context.Context {
	return context.WithValue(ctx, logFieldsKey{}, &logFields{})
}

// LogFields is middleware giving every request WithLogFields.
func LogFields(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(WithLogFields(r.Context())))
	})
}

// SetLogRuntime records the runtime and endpoint the request of ctx addresses, for its
// later log lines. Without WithLogFields it does nothing.
func SetLogRuntime(ctx context.Context, runtimeID, endpoint string) {
	if f, ok := ctx.Value(logFieldsKey{}).(*logFields); ok {
		f.mu.Lock()
		f.runtime, f.endpoint = runtimeID, endpoint
		f.mu.Unlock()
	}
}

// SetLogSession records the runtime session id the request of ctx addresses.
func SetLogSession(ctx context.Context, sessionID string) {
	if f, ok := ctx.Value(logFieldsKey{}).(*logFields); ok {
		f.mu.Lock()
		f.session = sessionID
		f.mu.Unlock()
	}
}

// ContextHandler wraps a slog.Handler: every line logged with a context carries that
// context's request id (from requestID) and the runtime, endpoint and session recorded with
// SetLogRuntime and SetLogSession, unless the line already has them; and the value of
// every attribute whose key names a secret (secret, password, token, authorization,
// credential value…; see Redacted) is replaced by "[REDACTED]", so a careless log call
// cannot leak one.
func ContextHandler(next slog.Handler, requestID func(context.Context) string) slog.Handler {
	return &contextHandler{next: next, requestID: requestID}
}

type contextHandler struct {
	next      slog.Handler
	requestID func(context.Context) string
	has       []string // keys of WithAttrs
}

func (h *contextHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *contextHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	has := slices.Clone(h.has)
	r.Attrs(func(a slog.Attr) bool {
		has = append(has, a.Key)
		out.AddAttrs(redact(a))
		return true
	})
	add := func(key, value string) {
		if value != "" && !slices.Contains(has, key) {
			out.AddAttrs(slog.String(key, value))
		}
	}
	if ctx != nil {
		if h.requestID != nil {
			add(LogKeyRequestID, h.requestID(ctx))
		}
		if f, ok := ctx.Value(logFieldsKey{}).(*logFields); ok {
			f.mu.Lock()
			runtime, endpoint, session := f.runtime, f.endpoint, f.session
			f.mu.Unlock()
			add(LogKeyRuntime, runtime)
			add(LogKeyEndpoint, endpoint)
			add(LogKeySession, session)
		}
	}
	return h.next.Handle(ctx, out)
}

func (h *contextHandler) WithAttrs(as []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(as))
	has := slices.Clone(h.has)
	for i, a := range as {
		red[i] = redact(a)
		has = append(has, a.Key)
	}
	return &contextHandler{next: h.next.WithAttrs(red), requestID: h.requestID, has: has}
}

func (h *contextHandler) WithGroup(name string) slog.Handler {
	return &contextHandler{next: h.next.WithGroup(name), requestID: h.requestID, has: h.has}
}

// secretWords are the parts of attribute keys whose values are never logged.
var secretWords = []string{"secret", "password", "passwd", "token", "authorization", "credential_value", "private_key", "api_key", "apikey"}

// Redacted reports whether an attribute called key has its value replaced in the logs.
func Redacted(key string) bool {
	k := strings.ToLower(key)
	for _, w := range secretWords {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// redact hides the value of a for a secret key, also inside groups.
func redact(a slog.Attr) slog.Attr {
	if Redacted(a.Key) {
		return slog.String(a.Key, "[REDACTED]")
	}
	if a.Value.Kind() == slog.KindGroup {
		g := a.Value.Group()
		red := make([]slog.Attr, len(g))
		for i, x := range g {
			red[i] = redact(x)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(red...)}
	}
	return a
}
