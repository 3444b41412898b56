package sessionlog

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// clock is a settable clock for record times and ages.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newLogs makes Logs in a fresh directory; tweak adjusts the options first.
func newLogs(t *testing.T, tweak func(*Options)) *Logs {
	t.Helper()
	opts := Options{Dir: t.TempDir()}
	if tweak != nil {
		tweak(&opts)
	}
	l, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

func open(t *testing.T, l *Logs, id string) *Writer {
	t.Helper()
	w, err := l.Open(id, Source{RuntimeID: "rt-" + id, SessionID: "session-" + id})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	return w
}

// readAllOf reads a session's log with q (no following).
func readAllOf(t *testing.T, l *Logs, id string, q Query) []Record {
	t.Helper()
	var out []Record
	err := l.Read(t.Context(), id, q, neverEnded, func(recs []Record) error {
		out = append(out, recs...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func neverEnded(context.Context) (bool, error) { return false, nil }

func lines(recs []Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.Line
	}
	return out
}

// follower runs Read with Follow in the background and hands over what it emits.
type followed struct {
	recs chan Record
	done chan error
}

func follow(t *testing.T, l *Logs, id string, q Query, ended func(context.Context) (bool, error)) *followed {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	f := &followed{recs: make(chan Record, 100000), done: make(chan error, 1)}
	q.Follow = true
	go func() {
		f.done <- l.Read(ctx, id, q, ended, func(recs []Record) error {
			for _, r := range recs {
				f.recs <- r
			}
			return nil
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-f.done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("follow ended with %v", err)
		}
	})
	return f
}

// next waits (up to 5 s) for the next record.
func (f *followed) next(t *testing.T) Record {
	t.Helper()
	select {
	case r := <-f.recs:
		return r
	case err := <-f.done:
		f.done <- err // for the cleanup
		select {
		case r := <-f.recs: // emitted before the end
			return r
		default:
		}
		t.Fatalf("follow ended early: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("no record within 5s")
	}
	return Record{}
}

// end waits (up to 5 s) for the follow to end and returns its error.
func (f *followed) end(t *testing.T) error {
	t.Helper()
	select {
	case err := <-f.done:
		f.done <- err // for the cleanup
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("follow did not end within 5s")
	}
	return nil
}
