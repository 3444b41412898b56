package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"runtime/debug"
	"time"
)

func (a *App) serveInvocation(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	body, err := a.readBody(w, r)
	if err != nil {
		if mbe, ok := errors.AsType[*http.MaxBytesError](err); ok {
			writeJSON(w, http.StatusRequestEntityTooLarge,
				errorBody(fmt.Sprintf("request body larger than %d bytes", mbe.Limit)))
			return
		}
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "Invalid body", "details": err.Error()})
		return
	}
	if !a.rawPayload && !json.Valid(body) {
		var raw json.RawMessage
		detail := "invalid JSON"
		if err := json.Unmarshal(body, &raw); err != nil {
			detail = err.Error()
		}
		a.log.Warn("invalid JSON in request", "error", detail)
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "Invalid JSON", "details": detail})
		return
	}
	req := newRequest(r, body)
	ctx := withRequest(r.Context(), req)
	log := a.log.With("requestId", req.RequestID, "sessionId", req.SessionID)
	if a.handler == nil {
		log.Error("no entrypoint defined")
		writeJSON(w, http.StatusInternalServerError, errorBody("No entrypoint defined"))
		return
	}
	result, err := a.call(ctx, *req)
	if err != nil {
		if he, ok := errors.AsType[*HTTPError](err); ok {
			log.Warn("invocation failed", "status", he.Status, "error", err)
			writeJSON(w, he.Status, errorBody(he.Message))
			return
		}
		log.Error("invocation failed", "error", err, "duration", time.Since(start))
		writeJSON(w, http.StatusInternalServerError, errorBody(err.Error()))
		return
	}
	a.respond(ctx, w, r, result, log)
	log.Debug("invocation completed", "duration", time.Since(start))
}

func (a *App) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body := http.MaxBytesReader(w, r.Body, a.maxBody)
	defer func() { _ = body.Close() }()
	if n := r.ContentLength; n > 0 && n <= a.maxBody {
		buf := make([]byte, n)
		if _, err := io.ReadFull(body, buf); err != nil {
			return nil, fmt.Errorf("read body: %w", err)
		}
		return buf, nil
	}
	buf, err := io.ReadAll(body)
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	return buf, nil
}

// call runs the handler, turning a panic into an error.
func (a *App) call(ctx context.Context, req Request) (result any, err error) {
	defer func() {
		if p := recover(); p != nil {
			a.log.Error("handler panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return a.handler(ctx, req)
}

func (a *App) respond(ctx context.Context, w http.ResponseWriter, r *http.Request, result any, log logger) {
	switch v := result.(type) {
	case http.Handler:
		v.ServeHTTP(w, r)
	case iter.Seq2[any, error]:
		a.stream(ctx, w, log, func(send func(any) error) error {
			for item, err := range v {
				if err != nil {
					return err
				}
				if err := send(item); err != nil {
					return err
				}
			}
			return nil
		})
	case iter.Seq[any]:
		a.stream(ctx, w, log, func(send func(any) error) error {
			for item := range v {
				if err := send(item); err != nil {
					return err
				}
			}
			return nil
		})
	case StreamFunc:
		a.stream(ctx, w, log, func(send func(any) error) error {
			return v(ctx, &Stream{send: send})
		})
	default:
		writeJSON(w, http.StatusOK, v)
	}
}
