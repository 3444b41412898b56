package agent

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"net/http"
)

type logger = *slog.Logger

// StreamFunc is a handler result that writes Server-Sent Events through a [Stream]. If it
// returns an error, the error becomes the last event.
type StreamFunc func(ctx context.Context, s *Stream) error

// Stream sends events of a streamed response.
type Stream struct {
	send func(any) error
}

// Send writes v as one event ("data: <json>\n\n") and flushes it to the client. It fails
// once the client has gone away; the request context is then cancelled too.
func (s *Stream) Send(v any) error { return s.send(v) }

// Seq adapts an iterator of any element type to the iter.Seq2[any, error] a handler may
// return for a streamed response.
func Seq[T any](seq iter.Seq2[T, error]) iter.Seq2[any, error] {
	return func(yield func(any, error) bool) {
		for v, err := range seq {
			if !yield(v, err) {
				return
			}
		}
	}
}

// errClientGone marks a failed write: the stream ends without an error event.
var errClientGone = errors.New("client went away")

// stream answers with text/event-stream and runs produce, which calls send per event.
func (a *App) stream(ctx context.Context, w http.ResponseWriter, log logger, produce func(send func(any) error) error) {
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		log.Info("client went away before the stream started", "error", err)
		return
	}
	send := func(v any) error {
		if _, err := w.Write(sseEvent(v)); err != nil {
			return fmt.Errorf("%w: %w", errClientGone, err)
		}
		if err := rc.Flush(); err != nil {
			return fmt.Errorf("%w: %w", errClientGone, err)
		}
		return nil
	}
	err := func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("panic: %v", p)
			}
		}()
		return produce(send)
	}()
	switch {
	case err == nil:
	case errors.Is(err, errClientGone):
		log.Info("client went away during a stream", "error", err)
	default:
		log.Error("error in streaming response", "error", err)
		if ctx.Err() == nil {
			_, _ = w.Write(streamErrorEvent(err))
			_ = rc.Flush()
		}
	}
}
