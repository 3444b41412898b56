package sessionlog

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// hasLog reports whether the session has a log file (either segment).
func hasLog(l *Logs, id string) bool {
	cur, prev := l.paths(id)
	for _, p := range []string{cur, prev} {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}

// existing lists which of ids have a log.
func existing(l *Logs, ids ...string) []string {
	var out []string
	for _, id := range ids {
		if hasLog(l, id) {
			out = append(out, id)
		}
	}
	return out
}

func TestSweep_ByAgeAfterTheEnd(t *testing.T) {
	clk := newClock()
	l := newLogs(t, func(o *Options) { o.Now = clk.now; o.MaxAge = time.Hour })
	for _, id := range []string{"old", "recent"} {
		w := open(t, l, id)
		fmt.Fprintln(w.Stream(StreamStdout), "bye")
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if id == "old" {
			clk.advance(50 * time.Minute) // "old" ends 50 minutes before "recent"
		}
	}
	// A live session's log stays however old its last line is; so does a file of another
	// name.
	live := open(t, l, "live")
	fmt.Fprintln(live.Stream(StreamStdout), "still here")
	longAgo := clk.now().Add(-48 * time.Hour)
	if err := os.Chtimes(l.Path("live"), longAgo, longAgo); err != nil {
		t.Fatal(err)
	}
	stray := filepath.Join(l.opts.Dir, "notes.txt")
	if err := os.WriteFile(stray, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = os.Chtimes(stray, longAgo, longAgo)
	// A log from before timestamps ended long ago.
	if err := os.WriteFile(l.Path("raw"), []byte("raw output\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = os.Chtimes(l.Path("raw"), longAgo, longAgo)

	if n, err := l.Sweep(); err != nil || n != 1 {
		t.Fatalf("sweep removed %d (%v), want 1 (raw)", n, err)
	}
	if got := existing(l, "old", "recent", "live", "raw"); !slices.Equal(got, []string{"old", "recent", "live"}) {
		t.Fatalf("logs %v after the first sweep", got)
	}
	clk.advance(20 * time.Minute) // old ended 70 minutes ago, recent 20
	if n, err := l.Sweep(); err != nil || n != 1 {
		t.Fatalf("sweep removed %d (%v), want 1 (old)", n, err)
	}
	if got := existing(l, "old", "recent", "live"); !slices.Equal(got, []string{"recent", "live"}) {
		t.Fatalf("logs %v, want recent and live", got)
	}
	if _, err := os.Stat(stray); err != nil {
		t.Fatalf("the sweep removed a file that is no session log: %v", err)
	}
}

func TestSweep_ByTotalLongestEndedFirst(t *testing.T) {
	clk := newClock()
	const perSession = 4096
	l := newLogs(t, func(o *Options) {
		o.Now = clk.now
		o.MaxBytesPerSession = perSession
		o.MaxTotalBytes = 5 * perSession / 2
	})
	line := strings.Repeat("x", 100)
	ids := []string{"a", "b", "c", "d", "e"}
	for _, id := range ids { // each fills its cap: two full segments
		w := open(t, l, id)
		for range 100 {
			fmt.Fprintln(w.Stream(StreamStdout), line)
		}
		if id != "e" {
			_ = w.Close()
		}
		clk.advance(time.Minute)
	}
	n, err := l.Sweep()
	if err != nil {
		t.Fatal(err)
	}
	// a, b and c ended first; e is live and stays whatever its size.
	if got := existing(l, ids...); n != 3 || !slices.Equal(got, []string{"d", "e"}) {
		t.Fatalf("swept %d, left %v; want 3 swept, d and e left", n, got)
	}
	all, err := l.list()
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, s := range all {
		total += s.bytes
	}
	if total > 5*perSession/2 {
		t.Fatalf("%d bytes left, more than the total of %d", total, 5*perSession/2)
	}
}

func TestSweep_RunsInTheBackground(t *testing.T) {
	clk := newClock()
	l := newLogs(t, func(o *Options) { o.Now = clk.now; o.MaxAge = time.Minute; o.SweepEvery = 10 * time.Millisecond })
	w := open(t, l, "gone")
	_ = w.Close()
	clk.advance(time.Hour)
	l.Start(t.Context())
	deadline := time.Now().Add(5 * time.Second)
	for hasLog(l, "gone") {
		if time.Now().After(deadline) {
			t.Fatal("the sweeper did not remove an expired log within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}
