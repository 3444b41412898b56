package dataplane

import (
	"errors"
	"net/http"
	"time"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/httpapi"
	"berth.dev/berth/internal/session"
)

// stopSession is StopRuntimeSession (AGENTCORE-WIRE.md §2.4): it ends the session now and
// wipes its sandbox; an unknown or already-ended session is ResourceNotFoundException.
func (a *API) stopSession(w http.ResponseWriter, r *http.Request) error {
	addr, err := a.parseAddress(r)
	if err != nil {
		return err
	}
	sid, err := sessionID(r, false)
	if err != nil {
		return err
	}
	var body struct {
		ClientToken *string `json:"clientToken"`
	}
	if err := httpapi.DecodeJSON(r, &body); err != nil {
		return err
	}
	var f errdefs.Fields
	catalog.ValidateClientToken("clientToken", body.ClientToken, &f)
	if err := f.Err(); err != nil {
		return err
	}
	if _, err := a.svc.GetEndpoint(r.Context(), addr.RuntimeID, addr.Endpoint); err != nil {
		return err
	}
	key := session.Key{RuntimeID: addr.RuntimeID, Endpoint: addr.Endpoint, SessionID: sid}
	token, tokenKey := deref(body.ClientToken), addr.RuntimeID+"/"+addr.Endpoint+"/"+sid
	if err := a.sessions.Stop(r.Context(), key); err != nil {
		if !errors.Is(err, errdefs.ErrNotFound) || !a.stops.replay(token, tokenKey, time.Now()) {
			return err
		}
	} else {
		a.stops.remember(token, tokenKey, time.Now())
	}
	w.Header().Set(sessionHeader, sid)
	w.WriteHeader(http.StatusOK)
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
