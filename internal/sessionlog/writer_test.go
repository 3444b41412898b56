package sessionlog

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

func TestWriter_TimestampsEveryLineWithItsStream(t *testing.T) {
	clk := newClock()
	l := newLogs(t, func(o *Options) { o.Now = clk.now; o.PartialDelay = time.Hour })
	w := open(t, l, "s1")
	t0 := clk.now()
	fmt.Fprint(w.Stream(StreamStdout), "one\ntwo\n")
	clk.advance(time.Second)
	fmt.Fprint(w.Stream(StreamStderr), "oops\r\n")
	clk.advance(time.Second)
	// A line begun now and finished later keeps the time of its first byte.
	fmt.Fprint(w.Stream(StreamStdout), "thr")
	clk.advance(time.Second)
	fmt.Fprint(w.Stream(StreamStdout), "ee\n")
	w.Notice("agent exited")
	fmt.Fprint(w, "both streams\n")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := readAllOf(t, l, "s1", Query{Tail: -1})
	want := []Record{
		{Time: t0, Stream: StreamStdout, Line: "one"},
		{Time: t0, Stream: StreamStdout, Line: "two"},
		{Time: t0.Add(time.Second), Stream: StreamStderr, Line: "oops"},
		{Time: t0.Add(2 * time.Second), Stream: StreamStdout, Line: "three"},
		{Time: t0.Add(3 * time.Second), Stream: StreamBerth, Line: "agent exited"},
		{Time: t0.Add(3 * time.Second), Stream: StreamOutput, Line: "both streams"},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("records\n%v\nwant\n%v", got, want)
	}
	raw, err := os.ReadFile(l.Path("s1"))
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(raw), "\n")
	if want := `{"t":"2026-03-14T15:09:26Z","stream":"stdout","line":"one"}`; first != want {
		t.Fatalf("first line on disk %s, want %s", first, want)
	}
	// Writes after Close are dropped, without failing the agent's output.
	if n, err := w.Stream(StreamStdout).Write([]byte("late\n")); n != 5 || err != nil {
		t.Fatalf("write after close: %d, %v", n, err)
	}
	if got := readAllOf(t, l, "s1", Query{Tail: -1}); len(got) != len(want) {
		t.Fatalf("%d records after a late write, want %d", len(got), len(want))
	}
}

func TestWriter_UnfinishedLineWrittenAfterDelay(t *testing.T) {
	l := newLogs(t, func(o *Options) { o.PartialDelay = 20 * time.Millisecond })
	w := open(t, l, "prompt")
	f := follow(t, l, "prompt", Query{Tail: -1}, neverEnded)
	fmt.Fprint(w.Stream(StreamStdout), "name? ")
	if r := f.next(t); r.Line != "name? " || !r.Partial || r.Stream != StreamStdout {
		t.Fatalf("record %+v, want the prompt, partial", r)
	}
	fmt.Fprint(w.Stream(StreamStdout), "ok\n")
	if r := f.next(t); r.Line != "ok" || r.Partial {
		t.Fatalf("record %+v, want the rest of the line, whole", r)
	}
}

func TestWriter_LineFinishedWithinDelayStaysWhole(t *testing.T) {
	l := newLogs(t, func(o *Options) { o.PartialDelay = time.Hour })
	w := open(t, l, "whole")
	for _, c := range "hello" {
		fmt.Fprint(w.Stream(StreamStdout), string(c))
	}
	fmt.Fprint(w.Stream(StreamStderr), "err")
	fmt.Fprint(w.Stream(StreamStdout), "\n")
	if got := lines(readAllOf(t, l, "whole", Query{Tail: -1})); !slices.Equal(got, []string{"hello"}) {
		t.Fatalf("lines %q, want [hello] (stderr's line unfinished)", got)
	}
	// Flush writes what is unfinished, Close does too.
	w.Flush()
	got := readAllOf(t, l, "whole", Query{Tail: -1})
	if len(got) != 2 || got[1].Line != "err" || !got[1].Partial || got[1].Stream != StreamStderr {
		t.Fatalf("after Flush %+v, want stderr's unfinished line, partial", got)
	}
	fmt.Fprint(w.Stream(StreamStdout), "bye")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got = readAllOf(t, l, "whole", Query{Tail: -1})
	if last := got[len(got)-1]; last.Line != "bye" || !last.Partial {
		t.Fatalf("after Close the last record is %+v, want bye, partial", last)
	}
}

func TestWriter_CutsLongLinesAtCharacterBoundaries(t *testing.T) {
	l := newLogs(t, func(o *Options) { o.MaxLineBytes = 10 })
	w := open(t, l, "long")
	line := strings.Repeat("é", 12) // 24 bytes, 2 each
	fmt.Fprintln(w.Stream(StreamStdout), line)
	_ = w.Close()
	got := readAllOf(t, l, "long", Query{Tail: -1})
	var joined strings.Builder
	for i, r := range got {
		if len(r.Line) > 10 || !utf8.ValidString(r.Line) {
			t.Fatalf("piece %q: longer than 10 bytes or cut inside a character", r.Line)
		}
		if r.Partial != (i < len(got)-1) {
			t.Fatalf("piece %d of %d partial=%v", i, len(got), r.Partial)
		}
		joined.WriteString(r.Line)
	}
	if joined.String() != line || len(got) != 3 {
		t.Fatalf("%d pieces joining to %q, want 3 pieces of %q", len(got), joined.String(), line)
	}
}

func TestWriter_CapDropsOldestLines(t *testing.T) {
	const maxBytes = 8192
	l := newLogs(t, func(o *Options) { o.MaxBytesPerSession = maxBytes })
	w := open(t, l, "capped")
	const n = 2000
	for i := range n {
		fmt.Fprintf(w.Stream(StreamStdout), "line %04d\n", i)
	}
	_ = w.Close()
	cur, prev := l.paths("capped")
	var total int64
	for _, p := range []string{cur, prev} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		total += fi.Size()
	}
	if total > maxBytes {
		t.Fatalf("the log keeps %d bytes, more than the cap of %d", total, maxBytes)
	}
	got := lines(readAllOf(t, l, "capped", Query{Tail: -1}))
	if len(got) < 50 || got[len(got)-1] != fmt.Sprintf("line %04d", n-1) {
		t.Fatalf("kept %d lines ending %q, want the newest ones", len(got), got[len(got)-1])
	}
	// What is kept is the newest lines, contiguous: the oldest went first.
	first := 0
	if _, err := fmt.Sscanf(got[0], "line %d", &first); err != nil {
		t.Fatal(err)
	}
	for i, s := range got {
		if want := fmt.Sprintf("line %04d", first+i); s != want {
			t.Fatalf("line %d is %q, want %q", i, s, want)
		}
	}
}

func TestWriter_ConcurrentStreamsKeepWholeLines(t *testing.T) {
	l := newLogs(t, nil)
	w := open(t, l, "many")
	var wg sync.WaitGroup
	for _, s := range []string{StreamStdout, StreamStderr} {
		wg.Go(func() {
			for i := range 500 {
				fmt.Fprintf(w.Stream(s), "%s %d\n", s, i)
			}
		})
	}
	wg.Wait()
	_ = w.Close()
	next := map[string]int{}
	for _, r := range readAllOf(t, l, "many", Query{Tail: -1}) {
		if want := fmt.Sprintf("%s %d", r.Stream, next[r.Stream]); r.Line != want {
			t.Fatalf("line %q, want %q", r.Line, want)
		}
		next[r.Stream]++
	}
	if next[StreamStdout] != 500 || next[StreamStderr] != 500 {
		t.Fatalf("counted %v, want 500 each", next)
	}
}

// recordingExporter keeps what it is given.
type recordingExporter struct {
	mu   sync.Mutex
	srcs []Source
	recs []Record
}

func (e *recordingExporter) Export(src Source, recs []Record) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, r := range recs {
		e.srcs = append(e.srcs, src)
		e.recs = append(e.recs, r)
	}
}

func TestWriter_ExportsAndAppends(t *testing.T) {
	exp := &recordingExporter{}
	l := newLogs(t, func(o *Options) { o.Exporter = exp })
	w := open(t, l, "exp")
	fmt.Fprintln(w.Stream(StreamStderr), "to export")
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := l.Append("exp", []Record{{Time: at, Stream: "otel", Line: "from the agent's OTLP logs"}}); err != nil {
		t.Fatal(err)
	}
	if err := l.Append("nobody", []Record{{Stream: "otel", Line: "x"}}); err == nil {
		t.Fatal("Append to a session without a log succeeded")
	}
	_ = w.Close()
	want := Source{RecordID: "exp", RuntimeID: "rt-exp", SessionID: "session-exp"}
	if len(exp.recs) != 2 || exp.recs[0].Line != "to export" || exp.recs[1].Time != at || exp.srcs[0] != want || exp.srcs[1] != want {
		t.Fatalf("exported %+v from %+v", exp.recs, exp.srcs)
	}
	got := readAllOf(t, l, "exp", Query{Tail: -1})
	if len(got) != 2 || got[1].Stream != "otel" || !got[1].Time.Equal(at) {
		t.Fatalf("log %+v lacks the appended record", got)
	}
}
