package agent_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"berth.dev/berth/sdk/go/agent"
)

type pingBody struct {
	Status     string `json:"status"`
	LastUpdate *int64 `json:"time_of_last_update"`
}

func ping(t *testing.T, srv *httptest.Server) pingBody {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/ping", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("ping: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var p pingBody
	dec := json.NewDecoder(resp.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatal(err)
	}
	if p.LastUpdate == nil {
		t.Fatal("ping without time_of_last_update")
	}
	return p
}

func TestPingHealthyAndBusy(t *testing.T) {
	app, srv := serve(t, func(ctx context.Context, req agent.Request) (any, error) { return nil, nil })
	first := ping(t, srv)
	if first.Status != "Healthy" || *first.LastUpdate > time.Now().Unix() {
		t.Fatalf("got %+v", first)
	}
	// No status change, no new timestamp: an advancing value would defeat idle timeouts.
	if again := ping(t, srv); *again.LastUpdate != *first.LastUpdate {
		t.Fatalf("time_of_last_update moved without a status change: %d -> %d", *first.LastUpdate, *again.LastUpdate)
	}
	doneA := app.Busy("indexing")
	doneB := app.Busy("embedding")
	if got := ping(t, srv).Status; got != "HealthyBusy" {
		t.Fatalf("status with open tasks = %s", got)
	}
	if n := len(app.Tasks()); n != 2 {
		t.Fatalf("Tasks() has %d entries, want 2", n)
	}
	doneA()
	doneA() // idempotent: must not close B's registration
	if got := ping(t, srv).Status; got != "HealthyBusy" {
		t.Fatalf("status with one open task = %s", got)
	}
	doneB()
	if got := ping(t, srv).Status; got != "Healthy" {
		t.Fatalf("status after done = %s", got)
	}
	app.ForceStatus(agent.HealthyBusy)
	if got := ping(t, srv).Status; got != "HealthyBusy" {
		t.Fatalf("forced status = %s", got)
	}
	app.ClearForcedStatus()
	if got := ping(t, srv).Status; got != "Healthy" {
		t.Fatalf("status after clearing = %s", got)
	}
}

func TestBusyBackgroundWork(t *testing.T) {
	release, open := gate(t)
	var app *agent.App
	app, srv := serve(t, func(ctx context.Context, req agent.Request) (any, error) {
		done := app.Busy("background")
		go func() {
			defer done()
			<-release
		}()
		return map[string]string{"status": "started"}, nil
	})
	if r := post(t, srv, `{}`, nil); string(r.body) != `{"status":"started"}` {
		t.Fatalf("got %s", r.body)
	}
	if got := ping(t, srv).Status; got != "HealthyBusy" {
		t.Fatalf("status while the work runs = %s", got)
	}
	open()
	deadline := time.Now().Add(10 * time.Second)
	for ping(t, srv).Status != "Healthy" {
		if time.Now().After(deadline) {
			t.Fatal("still busy after the work finished")
		}
		time.Sleep(5 * time.Millisecond) // the HTTP endpoint is the only observable
	}
}

func TestPingOverride(t *testing.T) {
	var busy atomic.Bool
	busy.Store(true)
	app, srv := serve(t, func(ctx context.Context, req agent.Request) (any, error) { return nil, nil },
		agent.WithPing(func(ctx context.Context) agent.Status {
			if busy.Load() {
				return agent.HealthyBusy
			}
			return agent.Healthy
		}))
	if got := ping(t, srv).Status; got != "HealthyBusy" {
		t.Fatalf("override busy: %s", got)
	}
	busy.Store(false)
	defer app.Busy("ignored while the override answers")()
	if got := ping(t, srv).Status; got != "Healthy" {
		t.Fatalf("override healthy: %s", got)
	}
}

func TestPingDuringSlowHandler(t *testing.T) {
	entered := make(chan struct{})
	var release <-chan struct{}
	_, srv := serve(t, func(ctx context.Context, req agent.Request) (any, error) {
		close(entered)
		<-release
		return "done", nil
	})
	release, open := gate(t) // after serve: its cleanup must run before srv.Close
	result := make(chan response, 1)
	go func() {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/invocations",
			strings.NewReader(`{}`))
		if err != nil {
			result <- response{status: -1}
			return
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			result <- response{status: -1}
			return
		}
		defer func() { _ = resp.Body.Close() }()
		body, _ := io.ReadAll(resp.Body)
		result <- response{status: resp.StatusCode, body: body}
	}()
	select {
	case <-entered:
	case r := <-result:
		t.Fatalf("handler not entered: %d %s", r.status, r.body)
	}
	for range 3 {
		start := time.Now()
		if got := ping(t, srv).Status; got != "Healthy" {
			t.Fatalf("status = %s", got)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("ping took %v during a slow handler", d)
		}
	}
	select {
	case <-result:
		t.Fatal("handler finished before release")
	default:
	}
	open()
	if r := <-result; r.status != 200 || string(r.body) != `"done"` {
		t.Fatalf("invocation: %d %s", r.status, r.body)
	}
}
