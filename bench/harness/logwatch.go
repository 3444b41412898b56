package harness

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// LogLine is one line of the server's log in slog's text format
// (`time=… level=INFO msg="session started" runtime=… pool_hit=true startup=12.3ms`).
type LogLine struct {
	Raw   string
	Level string            // "DEBUG", "INFO", …; "" for a line that is not slog text
	Msg   string            // the msg attribute
	Attrs map[string]string // every key=value, msg and level included, quotes removed
}

// Duration parses the attribute key as a Go duration ("12.3ms"); ok is false when it is
// missing or not a duration.
func (l LogLine) Duration(key string) (time.Duration, bool) {
	d, err := time.ParseDuration(l.Attrs[key])
	return d, err == nil
}

// ParseLogLine splits a slog text line into its attributes. Values slog quoted (those with
// spaces, quotes or '=') are unquoted; a line that is not key=value text yields the
// attributes before the first token that is not one.
func ParseLogLine(s string) LogLine {
	l := LogLine{Raw: s, Attrs: map[string]string{}}
	rest := strings.TrimRight(s, "\r\n")
	for rest != "" {
		rest = strings.TrimLeft(rest, " ")
		key, after, ok := strings.Cut(rest, "=")
		if !ok || key == "" || strings.ContainsAny(key, " \"") {
			break
		}
		var val string
		if strings.HasPrefix(after, `"`) {
			q, err := strconv.QuotedPrefix(after)
			if err != nil {
				break
			}
			if val, err = strconv.Unquote(q); err != nil {
				break
			}
			rest = after[len(q):]
		} else {
			val, rest, _ = strings.Cut(after, " ")
		}
		l.Attrs[key] = val
	}
	l.Level, l.Msg = l.Attrs["level"], l.Attrs["msg"]
	return l
}

// LogWatch collects the server's log lines that match a filter, from the moment Watch
// returned: register it before causing what it waits for.
type LogWatch struct {
	env   *Env
	match func(LogLine) bool

	mu    sync.Mutex
	lines []LogLine
	more  chan struct{} // closed and replaced when a line arrives
}

// Watch starts collecting the server's log lines (stdout and stderr) for which match is
// true. Close it when done. The server logs at the level given by Options.LogLevel, so a
// watch for debug lines needs LogLevel "debug".
func (e *Env) Watch(match func(LogLine) bool) *LogWatch {
	w := &LogWatch{env: e, match: match, more: make(chan struct{})}
	e.logMu.Lock()
	e.watches[w] = struct{}{}
	e.logMu.Unlock()
	return w
}

// Close stops collecting.
func (w *LogWatch) Close() {
	w.env.logMu.Lock()
	delete(w.env.watches, w)
	w.env.logMu.Unlock()
}

// add records l if it matches; the caller holds env.logMu.
func (w *LogWatch) add(l LogLine) {
	if !w.match(l) {
		return
	}
	w.mu.Lock()
	w.lines = append(w.lines, l)
	close(w.more)
	w.more = make(chan struct{})
	w.mu.Unlock()
}

// Count is how many matching lines arrived so far.
func (w *LogWatch) Count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.lines)
}

// Wait returns the matching lines once there are at least n, or an error when ctx ends or
// the server exits first.
func (w *LogWatch) Wait(ctx context.Context, n int) ([]LogLine, error) {
	return w.WaitWhere(ctx, n, nil)
}

// WaitWhere is Wait counting only the matching lines for which also is true (all of them
// when also is nil), and returning only those: one watch registered early can serve several
// narrower waits decided later.
func (w *LogWatch) WaitWhere(ctx context.Context, n int, also func(LogLine) bool) ([]LogLine, error) {
	for {
		w.mu.Lock()
		var out []LogLine
		for _, l := range w.lines {
			if also == nil || also(l) {
				out = append(out, l)
			}
		}
		if len(out) >= n {
			w.mu.Unlock()
			return out, nil
		}
		more, have := w.more, len(out)
		w.mu.Unlock()
		select {
		case <-more:
		case <-w.env.exited:
			return nil, errors.New("wait for server log: the server exited")
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for server log (%d of %d lines): %w", have, n, ctx.Err())
		}
	}
}

// WaitTimeout is Wait with a time limit.
func (w *LogWatch) WaitTimeout(ctx context.Context, n int, d time.Duration) ([]LogLine, error) {
	return w.WaitWhereTimeout(ctx, n, nil, d)
}

// WaitWhereTimeout is WaitWhere with a time limit.
func (w *LogWatch) WaitWhereTimeout(ctx context.Context, n int, also func(LogLine) bool, d time.Duration) ([]LogLine, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return w.WaitWhere(ctx, n, also)
}

// SessionStarted is the server's "session started" line for runtime session sid (logged at
// INFO once the session's sandbox answered /ping, with pool_hit and startup attributes).
func SessionStarted(sid string) func(LogLine) bool {
	return func(l LogLine) bool { return l.Msg == "session started" && l.Attrs["session"] == sid }
}

// PooledReady is the server's "pooled sandbox ready" line for a runtime (logged at DEBUG
// once a pre-started sandbox passed its health check and joined the endpoint's pool);
// runtimeID "" matches the line for any runtime.
func PooledReady(runtimeID string) func(LogLine) bool {
	return func(l LogLine) bool {
		return l.Msg == "pooled sandbox ready" && (runtimeID == "" || l.Attrs["runtime"] == runtimeID)
	}
}

// RuntimeID is the id at the end of a runtime ARN ("…:runtime/<id>").
func RuntimeID(arn string) string {
	_, id, ok := strings.Cut(arn, ":runtime/")
	if !ok {
		return arn
	}
	return id
}
