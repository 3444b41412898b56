package sessionlog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

func TestRead_TailAndSince(t *testing.T) {
	clk := newClock()
	l := newLogs(t, func(o *Options) { o.Now = clk.now })
	w := open(t, l, "q")
	start := clk.now()
	for i := range 10 {
		fmt.Fprintf(w.Stream(StreamStdout), "l%d\n", i)
		clk.advance(time.Second)
	}
	_ = w.Close()
	for _, c := range []struct {
		name string
		q    Query
		want []string
	}{
		{"all", Query{Tail: -1}, []string{"l0", "l1", "l2", "l3", "l4", "l5", "l6", "l7", "l8", "l9"}},
		{"tail 3", Query{Tail: 3}, []string{"l7", "l8", "l9"}},
		{"tail 0", Query{Tail: 0}, []string{}},
		{"tail beyond", Query{Tail: 50}, []string{"l0", "l1", "l2", "l3", "l4", "l5", "l6", "l7", "l8", "l9"}},
		{"since", Query{Tail: -1, Since: start.Add(7 * time.Second)}, []string{"l7", "l8", "l9"}},
		{"since and tail", Query{Tail: 2, Since: start.Add(5 * time.Second)}, []string{"l8", "l9"}},
	} {
		if got := lines(readAllOf(t, l, "q", c.q)); !slices.Equal(got, c.want) {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	if got := readAllOf(t, l, "missing", Query{Tail: -1}); len(got) != 0 {
		t.Fatalf("a session without a log read %v", got)
	}
}

func TestRead_LogsFromBeforeTimestamps(t *testing.T) {
	l := newLogs(t, nil)
	old := "berth: notice\n{\"not\": \"a record\"}\n{broken\n\nlast line without newline"
	if err := os.WriteFile(l.Path("old"), []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	got := readAllOf(t, l, "old", Query{Tail: -1})
	want := []string{"berth: notice", `{"not": "a record"}`, "{broken", "", "last line without newline"}
	if !slices.Equal(lines(got), want) {
		t.Fatalf("lines %q, want %q", lines(got), want)
	}
	for _, r := range got {
		if !r.Time.IsZero() || r.Stream != StreamOutput {
			t.Fatalf("record %+v of an old log has a time or a stream other than output", r)
		}
	}
	// Since drops lines without a time; tail works.
	if got := readAllOf(t, l, "old", Query{Tail: -1, Since: time.Unix(1, 0)}); len(got) != 0 {
		t.Fatalf("since kept %v", got)
	}
	if got := lines(readAllOf(t, l, "old", Query{Tail: 1})); !slices.Equal(got, []string{"last line without newline"}) {
		t.Fatalf("tail 1: %q", got)
	}
	// Following an old log of an ended session reads it and ends.
	f := follow(t, l, "old", Query{Tail: 2}, func(context.Context) (bool, error) { return true, nil })
	if r := f.next(t); r.Line != "" {
		t.Fatalf("first followed line %q", r.Line)
	}
	if r := f.next(t); r.Line != "last line without newline" {
		t.Fatalf("second followed line %q", r.Line)
	}
	if err := f.end(t); err != nil {
		t.Fatal(err)
	}
}

func TestRead_FollowLiveWriter(t *testing.T) {
	l := newLogs(t, nil)
	w := open(t, l, "live")
	fmt.Fprintln(w.Stream(StreamStdout), "before")
	fmt.Fprintln(w.Stream(StreamStdout), "also before")
	f := follow(t, l, "live", Query{Tail: 1}, neverEnded)
	if r := f.next(t); r.Line != "also before" {
		t.Fatalf("tail line %q", r.Line)
	}
	var worst time.Duration
	for i := range 20 {
		sent := time.Now()
		fmt.Fprintf(w.Stream(StreamStderr), "new %d\n", i)
		r := f.next(t)
		worst = max(worst, time.Since(sent))
		if r.Line != fmt.Sprintf("new %d", i) || r.Stream != StreamStderr {
			t.Fatalf("followed %+v, want new %d on stderr", r, i)
		}
	}
	t.Logf("slowest line reached the follower in %v", worst)
	fmt.Fprint(w.Stream(StreamStdout), "unfinished")
	_ = w.Close()
	if r := f.next(t); r.Line != "unfinished" || !r.Partial {
		t.Fatalf("last record %+v, want the unfinished line, partial", r)
	}
	if err := f.end(t); err != nil {
		t.Fatalf("follow ended with %v after Close, want nil", err)
	}
}

func TestRead_FollowAcrossRotations(t *testing.T) {
	l := newLogs(t, func(o *Options) { o.MaxBytesPerSession = 4096 })
	w := open(t, l, "rot")
	f := follow(t, l, "rot", Query{Tail: -1}, neverEnded)
	for i := range 300 { // ~20 kB: many rotations
		fmt.Fprintf(w.Stream(StreamStdout), "line %03d\n", i)
		if r := f.next(t); r.Line != fmt.Sprintf("line %03d", i) {
			t.Fatalf("followed %q, want line %03d", r.Line, i)
		}
	}
	// A burst larger than a segment, with the follower behind: what it reads stays in
	// order and ends with the newest line.
	for i := 300; i < 400; i++ {
		fmt.Fprintf(w.Stream(StreamStdout), "line %03d\n", i)
	}
	_ = w.Close()
	last := 299
	for {
		select {
		case r := <-f.recs:
			var n int
			if _, err := fmt.Sscanf(r.Line, "line %d", &n); err != nil || n <= last {
				t.Fatalf("after line %d came %q", last, r.Line)
			}
			last = n
			continue
		case err := <-f.done:
			f.done <- err
			if err != nil {
				t.Fatal(err)
			}
			if len(f.recs) > 0 {
				continue // emitted before the end
			}
		case <-time.After(5 * time.Second):
			t.Fatal("follow did not end")
		}
		break
	}
	if last != 399 {
		t.Fatalf("the follower's last line was %d, want 399", last)
	}
}

func TestRead_FollowWithoutWriterPolls(t *testing.T) {
	l := newLogs(t, nil)
	// Another process writes this log: no Writer of l knows it.
	other := newLogs(t, func(o *Options) { o.Dir = l.opts.Dir })
	var over atomic.Bool
	f := follow(t, l, "elsewhere", Query{Tail: -1}, func(context.Context) (bool, error) { return over.Load(), nil })
	w := open(t, other, "elsewhere")
	sent := time.Now()
	fmt.Fprintln(w.Stream(StreamStdout), "from another process")
	if r := f.next(t); r.Line != "from another process" {
		t.Fatalf("followed %q", r.Line)
	}
	t.Logf("polled line arrived after %v", time.Since(sent))
	fmt.Fprintln(w.Stream(StreamStdout), "last words")
	_ = w.Close()
	over.Store(true)
	if r := f.next(t); r.Line != "last words" {
		t.Fatalf("followed %q", r.Line)
	}
	if err := f.end(t); err != nil {
		t.Fatal(err)
	}
}

func TestRead_EndFollows(t *testing.T) {
	l := newLogs(t, nil)
	w := open(t, l, "shut")
	fmt.Fprintln(w.Stream(StreamStdout), "hi")
	f := follow(t, l, "shut", Query{Tail: -1}, neverEnded)
	if r := f.next(t); r.Line != "hi" {
		t.Fatalf("followed %q", r.Line)
	}
	l.EndFollows()
	if err := f.end(t); err != nil {
		t.Fatal(err)
	}
}

func TestRead_FollowEmitsAtOnceAndEndsOnError(t *testing.T) {
	l := newLogs(t, nil)
	open(t, l, "empty")
	calls := 0
	err := l.Read(t.Context(), "empty", Query{Tail: -1, Follow: true}, neverEnded, func(recs []Record) error {
		calls++
		if len(recs) != 0 {
			t.Errorf("first batch %v, want none", recs)
		}
		return context.Canceled
	})
	if !errors.Is(err, context.Canceled) || calls != 1 {
		t.Fatalf("Read: %v after %d emits, want emit's error after the first (empty) batch", err, calls)
	}
}
