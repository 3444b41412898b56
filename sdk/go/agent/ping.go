package agent

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// Status is the value of /ping's "status" field.
type Status string

// The ping statuses of the runtime contract.
const (
	Healthy     Status = "Healthy"
	HealthyBusy Status = "HealthyBusy"
)

// Task is an open [App.Busy] registration.
type Task struct {
	Name    string
	Started time.Time
}

// Busy records background work: /ping reports HealthyBusy until every done function
// returned by Busy has been called. done is safe to call more than once.
func (a *App) Busy(name string) (done func()) {
	a.mu.Lock()
	a.nextTask++
	id := a.nextTask
	a.tasks[id] = Task{Name: name, Started: time.Now()}
	a.mu.Unlock()
	a.log.Info("async task started", "task", name, "id", id)
	var once sync.Once
	return func() {
		once.Do(func() {
			a.mu.Lock()
			t := a.tasks[id]
			delete(a.tasks, id)
			a.mu.Unlock()
			a.log.Info("async task completed", "task", name, "id", id, "duration", time.Since(t.Started))
		})
	}
}

// Tasks returns the open [App.Busy] registrations.
func (a *App) Tasks() []Task {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]Task, 0, len(a.tasks))
	for _, t := range a.tasks {
		out = append(out, t)
	}
	return out
}

// ForceStatus makes /ping report s regardless of tasks and [WithPing], until
// [App.ClearForcedStatus].
func (a *App) ForceStatus(s Status) {
	a.mu.Lock()
	a.forced = s
	a.mu.Unlock()
}

// ClearForcedStatus undoes [App.ForceStatus].
func (a *App) ClearForcedStatus() { a.ForceStatus("") }

// Status returns the current ping status (forced, else [WithPing]'s, else automatic) and
// the time it last changed.
func (a *App) Status(ctx context.Context) (Status, time.Time) {
	a.mu.Lock()
	s := a.forced
	busy := len(a.tasks) > 0
	a.mu.Unlock()
	if s == "" && a.ping != nil {
		s = a.ping(ctx)
	}
	if s == "" {
		s = Healthy
		if busy {
			s = HealthyBusy
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if s != a.lastStatus {
		a.lastStatus = s
		a.lastChange = time.Now()
	}
	return s, a.lastChange
}

func (a *App) servePing(w http.ResponseWriter, r *http.Request) {
	s, changed := a.Status(r.Context())
	writeJSON(w, http.StatusOK, struct {
		Status     Status `json:"status"`
		LastUpdate int64  `json:"time_of_last_update"`
	}{s, changed.Unix()})
}
