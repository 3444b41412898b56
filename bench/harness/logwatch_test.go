package harness

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestParseLogLine parses what slog's text handler really writes, quoting included.
func TestParseLogLine(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	log.Info("session started", "runtime", "bench_go-AbC123", "session", "bench-1", "pool_hit", true,
		"startup", 1500*time.Microsecond, "note", `a "quoted" = value`)
	l := ParseLogLine(strings.TrimSpace(buf.String()))
	if l.Level != "INFO" || l.Msg != "session started" {
		t.Errorf("level %q msg %q", l.Level, l.Msg)
	}
	for k, want := range map[string]string{"runtime": "bench_go-AbC123", "session": "bench-1", "pool_hit": "true", "note": `a "quoted" = value`} {
		if got := l.Attrs[k]; got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if d, ok := l.Duration("startup"); !ok || d != 1500*time.Microsecond {
		t.Errorf("startup = %v, %v", d, ok)
	}
	if _, ok := l.Duration("runtime"); ok {
		t.Error("a non-duration parsed as one")
	}
	if l := ParseLogLine("Berth dev listening on http://127.0.0.1:1"); l.Msg != "" || len(l.Attrs) != 0 {
		t.Errorf("plain text parsed as %+v", l.Attrs)
	}
}

func TestRuntimeID(t *testing.T) {
	if got := RuntimeID("arn:aws:bedrock-agentcore:us-east-1:000000000000:runtime/bench_go-AbC123"); got != "bench_go-AbC123" {
		t.Errorf("RuntimeID = %q", got)
	}
}

// TestWatch_WaitsForLinesFromTheServerOutput feeds server output through readLog, as Start
// does, and checks that a watch sees only matching lines that came after it, that Wait
// blocks until enough arrived, and that every line reaches the log file.
func TestWatch_WaitsForLinesFromTheServerOutput(t *testing.T) {
	logf, err := os.Create(filepath.Join(t.TempDir(), "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	e := &Env{exited: make(chan struct{}), logDone: make(chan struct{}), logf: logf, watches: map[*LogWatch]struct{}{}}
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() { e.readLog(pr, nil); close(done) }()
	write := func(s string) {
		if _, err := io.WriteString(pw, s); err != nil {
			t.Error(err)
		}
	}
	// A line before the watch is not seen: lines are dispatched in order, so once the sync
	// line after it arrived, it was handled.
	barrier := e.Watch(func(l LogLine) bool { return l.Msg == "sync" })
	write("level=DEBUG msg=\"pooled sandbox ready\" runtime=r1\n")
	write("msg=sync\n")
	if _, err := barrier.WaitTimeout(t.Context(), 1, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	barrier.Close()
	w := e.Watch(PooledReady("r1"))
	defer w.Close()
	all := e.Watch(PooledReady("")) // every runtime's lines, narrowed per wait below
	defer all.Close()

	got := make(chan []LogLine, 1)
	go func() {
		lines, err := w.WaitTimeout(t.Context(), 2, 10*time.Second)
		if err != nil {
			t.Error(err)
		}
		got <- lines
	}()
	write("level=DEBUG msg=\"pooled sandbox ready\" runtime=r2\n")
	write("level=DEBUG msg=\"pooled sandbox ready\" runtime=r1 sandbox=a\n")
	select {
	case <-got:
		t.Fatal("Wait returned with one matching line of two")
	case <-time.After(50 * time.Millisecond):
	}
	write("level=DEBUG msg=\"pooled sandbox ready\" runtime=r1 sandbox=b\n")
	lines := <-got
	if len(lines) != 2 || lines[0].Attrs["sandbox"] != "a" || lines[1].Attrs["sandbox"] != "b" {
		t.Errorf("lines = %+v", lines)
	}
	if w.Count() != 2 {
		t.Errorf("Count = %d", w.Count())
	}
	if all.Count() != 3 {
		t.Errorf("the watch of every runtime counted %d lines, want 3", all.Count())
	}
	r2, err := all.WaitWhereTimeout(t.Context(), 1, PooledReady("r2"), 10*time.Second)
	if err != nil || len(r2) != 1 || r2[0].Attrs["runtime"] != "r2" {
		t.Errorf("WaitWhere(r2) = %+v, %v", r2, err)
	}
	ctx2, cancel2 := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel2()
	if _, err := all.WaitWhere(ctx2, 2, PooledReady("r2")); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitWhere(r2) for a second line that never comes: %v", err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := w.Wait(ctx, 3); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait for a line that never comes: %v", err)
	}
	_ = pw.Close()
	<-done
	close(e.exited)
	if _, err := w.Wait(t.Context(), 3); err == nil {
		t.Error("Wait after the server exited returned no error")
	}
	raw, err := os.ReadFile(logf.Name())
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(raw), "\n"); n != 5 {
		t.Errorf("log file holds %d lines, want 5:\n%s", n, raw)
	}
}
