package dataplane

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/client"
	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/httpapi"
	"berth.dev/berth/internal/store"
)

// view is s as Berth's extension API shows it. client.Session is the one declaration of
// that JSON shape, for this server and for the clients that read it.
func (a *API) view(s store.SessionRecord) client.Session {
	return client.Session{
		ID: s.ID, AgentRuntimeID: s.RuntimeID, AgentRuntimeArn: a.svc.Account().RuntimeARN(s.RuntimeID),
		Endpoint: s.Endpoint, SessionID: s.SessionID, Version: catalog.FormatVersion(s.Version),
		State: s.State, EndReason: s.EndReason, Driver: s.Driver,
		CPUSeconds: s.CPUTime.Seconds(), MemoryPeakBytes: s.MemoryPeakBytes,
		StartedAt: stamp(s.StartedAt), LastActivityAt: stamp(s.LastActivityAt), EndedAt: stamp(s.EndedAt),
	}
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// listSessions is GET /berth/v1/sessions?agentRuntimeId=&runtimeSessionId=&live=true&maxResults=&nextToken=
func (a *API) listSessions(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := store.SessionFilter{RuntimeID: q.Get("agentRuntimeId"), SessionID: q.Get("runtimeSessionId"), LiveOnly: q.Get("live") == "true"}
	maxResults, err := httpapi.QueryInt(r, "maxResults")
	if err != nil {
		return err
	}
	next := httpapi.QueryString(r, "nextToken")
	if err := catalog.ValidatePagination(maxResults, next); err != nil {
		return err
	}
	limit := 50
	if maxResults != nil {
		limit = *maxResults
	}
	before := ""
	if next != nil {
		if before, err = httpapi.DecodePageToken("sessions", *next); err != nil {
			return err
		}
	}
	var recs []store.SessionRecord
	err = a.st.View(r.Context(), func(tx store.Tx) error {
		var err error
		recs, err = tx.Sessions().ListSessions(r.Context(), f, before, limit+1)
		return err
	})
	if err != nil {
		return err
	}
	out := struct {
		Sessions  []client.Session `json:"sessions"`
		NextToken string           `json:"nextToken,omitempty"`
	}{Sessions: []client.Session{}}
	if len(recs) > limit {
		recs = recs[:limit]
		out.NextToken = httpapi.EncodePageToken("sessions", recs[limit-1].ID)
	}
	for _, s := range recs {
		out.Sessions = append(out.Sessions, a.view(s))
	}
	return httpapi.WriteJSON(w, http.StatusOK, out)
}

// getSession is GET /berth/v1/sessions/{id}.
func (a *API) getSession(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	var rec store.SessionRecord
	err := a.st.View(r.Context(), func(tx store.Tx) error {
		var err error
		rec, err = tx.Sessions().GetSession(r.Context(), id)
		return err
	})
	if errors.Is(err, errdefs.ErrNotFound) {
		return fmt.Errorf("%w: session record %s does not exist", errdefs.ErrNotFound, id)
	}
	if err != nil {
		return err
	}
	return httpapi.WriteJSON(w, http.StatusOK, a.view(rec))
}
