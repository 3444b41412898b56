package agent

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/coder/websocket"
)

func (a *App) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	if a.ws == nil {
		a.log.Error("no WebSocket handler defined")
		writeJSON(w, http.StatusForbidden, errorBody("No WebSocket handler defined"))
		return
	}
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		w.Header().Set("Upgrade", "websocket")
		writeJSON(w, http.StatusUpgradeRequired, errorBody("WebSocket upgrade required"))
		return
	}
	req := newRequest(r, nil)
	log := a.log.With("requestId", req.RequestID, "sessionId", req.SessionID)
	conn, err := websocket.Accept(w, r, a.wsOpts)
	if err != nil {
		log.Warn("WebSocket handshake failed", "error", err)
		return // Accept has answered the request
	}
	defer func() { _ = conn.CloseNow() }()
	conn.SetReadLimit(a.wsLimit)
	ctx := withRequest(r.Context(), req)
	err = func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("panic: %v", p)
			}
		}()
		return a.ws(ctx, conn)
	}()
	switch {
	case err == nil:
		_ = conn.Close(websocket.StatusNormalClosure, "")
	case websocket.CloseStatus(err) != -1 || ctx.Err() != nil && errors.Is(err, ctx.Err()):
		log.Debug("WebSocket closed by the client", "error", err)
	default:
		log.Error("WebSocket handler failed", "error", err)
		_ = conn.Close(websocket.StatusInternalError, truncate(err.Error(), 120))
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
