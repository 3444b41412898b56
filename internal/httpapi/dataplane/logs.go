package dataplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/sessionlog"
	"berth.dev/berth/internal/store"
)

// sessionLogs is GET /berth/v1/sessions/{id}/logs?tail=N&since=RFC3339&follow=true: the
// agent output of the session with record id {id} (internal/sessionlog), one JSON record
// per line ({"t":…,"stream":"stdout","line":…}) as application/x-ndjson. tail keeps the
// last N lines (default all), since the lines from then on; follow=true then keeps the
// answer open and sends each new line as soon as it is written, until the session has
// ended and everything is sent, or the client goes away.
func (a *API) sessionLogs(w http.ResponseWriter, r *http.Request) error {
	q, err := parseLogQuery(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	id := r.PathValue("id")
	rec, err := a.sessionRecord(ctx, id)
	if err != nil {
		return err
	}
	rc := http.NewResponseController(w)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	started := false
	emit := func(recs []sessionlog.Record) error {
		if !started {
			started = true
			w.Header().Set("Content-Type", "application/x-ndjson")
			w.WriteHeader(http.StatusOK)
		}
		for _, rec := range recs {
			if err := enc.Encode(rec); err != nil {
				return fmt.Errorf("send session log: %w", err)
			}
		}
		if q.Follow {
			if err := rc.Flush(); err != nil {
				return fmt.Errorf("send session log: %w", err)
			}
		}
		return nil
	}
	ended := func(ctx context.Context) (bool, error) {
		if rec.State != store.SessionTerminated {
			now, err := a.sessionRecord(ctx, id)
			if err != nil {
				return false, err
			}
			rec = now
		}
		return rec.State == store.SessionTerminated, nil
	}
	if logs := a.sessions.Logs(); logs != nil {
		err = logs.Read(ctx, id, q, ended, emit)
	}
	switch {
	case err == nil && !started:
		return emit(nil) // no lines: an empty answer
	case err == nil || ctx.Err() != nil:
		return nil
	case !started:
		return err
	}
	a.log.WarnContext(ctx, "session log stream broke off", "record", id, "err", err)
	return nil
}

// sessionRecord reads the record with id id; a missing one is ResourceNotFoundException.
func (a *API) sessionRecord(ctx context.Context, id string) (store.SessionRecord, error) {
	var rec store.SessionRecord
	err := a.st.View(ctx, func(tx store.Tx) error {
		var err error
		rec, err = tx.Sessions().GetSession(ctx, id)
		return err
	})
	if errors.Is(err, errdefs.ErrNotFound) {
		return rec, fmt.Errorf("%w: session record %s does not exist", errdefs.ErrNotFound, id)
	}
	return rec, err
}

// parseLogQuery validates the query of GET /berth/v1/sessions/{id}/logs, reporting every
// problem.
func parseLogQuery(r *http.Request) (sessionlog.Query, error) {
	v := r.URL.Query()
	var fields errdefs.Fields
	q := sessionlog.Query{Tail: -1}
	if s := v.Get("tail"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			fields.Add("tail", "Member must be a non-negative integer")
		}
		q.Tail = n
	}
	if s := v.Get("since"); s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			fields.Add("since", "Member must be an RFC 3339 time such as 2026-03-14T15:00:00Z")
		}
		q.Since = t
	}
	if s := v.Get("follow"); s != "" {
		f, err := strconv.ParseBool(s)
		if err != nil {
			fields.Add("follow", "Member must be true or false")
		}
		q.Follow = f
	}
	return q, fields.Err()
}
