package sessionlog

import (
	"bytes"
	"io"
	"os"
	"slices"
	"sync"
	"time"
	"unicode/utf8"
)

// Writer writes one session's log. Its streams (Stream) are the io.Writers the sandbox
// gets for stdout and stderr; Write itself writes to stream output. It is safe for
// concurrent use; after Close every write is discarded.
type Writer struct {
	logs *Logs
	id   string
	src  Source

	mu      sync.Mutex
	f       *os.File // nil after Close or a failed rotation
	size    int64    // bytes in f
	pending map[string]*unfinished
	timer   *time.Timer // flushes unfinished lines; nil while none waits
	changed chan struct{}
	done    chan struct{} // closed by Close
	closed  bool
	failed  bool // a write failed; logged once
}

// unfinished is a line whose newline has not come yet.
type unfinished struct {
	start   time.Time // record time of its first byte
	arrived time.Time // when its first byte arrived, for PartialDelay
	buf     []byte
}

var _ io.Writer = (*Writer)(nil)

func newWriter(l *Logs, id string, src Source, f *os.File, size int64) *Writer {
	return &Writer{
		logs: l, id: id, src: src, f: f, size: size,
		pending: map[string]*unfinished{}, changed: make(chan struct{}), done: make(chan struct{}),
	}
}

// Stream returns the io.Writer of one stream (StreamStdout, StreamStderr, …). Its Write
// never fails, so the agent's output never blocks on the log.
func (w *Writer) Stream(name string) io.Writer { return streamWriter{w, name} }

type streamWriter struct {
	w      *Writer
	stream string
}

func (s streamWriter) Write(p []byte) (int, error) {
	s.w.write(s.stream, p)
	return len(p), nil
}

// Write writes p to stream output (stdout and stderr as one).
func (w *Writer) Write(p []byte) (int, error) {
	w.write(StreamOutput, p)
	return len(p), nil
}

// Notice writes one of Berth's own notices about the session (stream berth).
func (w *Writer) Notice(text string) {
	w.append([]Record{{Stream: StreamBerth, Line: text}})
}

// write splits p into lines of stream and writes every finished one.
func (w *Writer) write(stream string, p []byte) {
	now, arrived := w.logs.opts.Now(), time.Now()
	maxLine := w.logs.opts.MaxLineBytes
	var recs []Record
	w.mu.Lock()
	if w.f == nil {
		w.mu.Unlock()
		return
	}
	for len(p) > 0 {
		line, rest, complete := bytes.Cut(p, []byte("\n"))
		p = rest
		u := w.pending[stream]
		if u == nil {
			u = &unfinished{start: now, arrived: arrived}
			w.pending[stream] = u
		}
		u.buf = append(u.buf, line...)
		for len(u.buf) > maxLine {
			cut := maxLine
			for cut > maxLine-utf8.UTFMax && !utf8.RuneStart(u.buf[cut]) {
				cut-- // do not split a character
			}
			recs = append(recs, Record{Time: u.start, Stream: stream, Line: string(u.buf[:cut]), Partial: true})
			u.buf = append([]byte(nil), u.buf[cut:]...)
			u.start, u.arrived = now, arrived
		}
		if complete {
			recs = append(recs, Record{Time: u.start, Stream: stream, Line: string(bytes.TrimSuffix(u.buf, []byte("\r")))})
			delete(w.pending, stream)
		}
	}
	if len(w.pending) > 0 && w.timer == nil {
		w.timer = time.AfterFunc(w.logs.opts.PartialDelay, w.flushWaiting)
	}
	w.writeLocked(recs)
	w.mu.Unlock()
	w.export(recs)
}

// append writes whole records (a zero Time becomes now).
func (w *Writer) append(recs []Record) {
	now := w.logs.opts.Now()
	recs = append([]Record(nil), recs...)
	for i := range recs {
		if recs[i].Time.IsZero() {
			recs[i].Time = now
		}
	}
	w.mu.Lock()
	w.writeLocked(recs)
	w.mu.Unlock()
	w.export(recs)
}

// flushWaiting writes the unfinished lines that have waited PartialDelay, marked partial,
// and waits for the others.
func (w *Writer) flushWaiting() {
	w.mu.Lock()
	w.timer = nil
	if w.f == nil {
		w.mu.Unlock()
		return
	}
	delay := w.logs.opts.PartialDelay
	next := time.Duration(-1)
	recs := w.takeUnfinishedLocked(func(u *unfinished) bool {
		if wait := delay - time.Since(u.arrived); wait > 0 {
			if next < 0 || wait < next {
				next = wait
			}
			return false
		}
		return true
	})
	if next >= 0 {
		w.timer = time.AfterFunc(next, w.flushWaiting)
	}
	w.writeLocked(recs)
	w.mu.Unlock()
	w.export(recs)
}

// Flush writes every unfinished line now, marked partial: what the agent wrote so far is
// then all in the file (read it for a start-up error).
func (w *Writer) Flush() {
	w.mu.Lock()
	recs := w.takeUnfinishedLocked(func(*unfinished) bool { return true })
	w.writeLocked(recs)
	w.mu.Unlock()
	w.export(recs)
}

// takeUnfinishedLocked removes the unfinished lines take accepts and returns them as
// partial records, oldest first.
func (w *Writer) takeUnfinishedLocked(take func(*unfinished) bool) []Record {
	var recs []Record
	for stream, u := range w.pending {
		if take(u) {
			recs = append(recs, Record{Time: u.start, Stream: stream, Line: string(u.buf), Partial: true})
			delete(w.pending, stream)
		}
	}
	slices.SortFunc(recs, func(a, b Record) int { return a.Time.Compare(b.Time) })
	return recs
}

// writeLocked appends recs to the file, starting a new segment when the current one would
// pass its limit, and wakes the followers.
func (w *Writer) writeLocked(recs []Record) {
	if len(recs) == 0 || w.f == nil {
		return
	}
	var buf, one bytes.Buffer
	for _, r := range recs {
		one.Reset()
		appendRecord(&one, r)
		if w.size+int64(buf.Len()+one.Len()) > w.logs.segLimit && w.size+int64(buf.Len()) > 0 {
			w.flushLocked(&buf)
			w.rotateLocked()
			if w.f == nil {
				return
			}
		}
		buf.Write(one.Bytes())
	}
	w.flushLocked(&buf)
	close(w.changed)
	w.changed = make(chan struct{})
}

// flushLocked writes buf to the file in one write and empties it.
func (w *Writer) flushLocked(buf *bytes.Buffer) {
	if buf.Len() == 0 {
		return
	}
	n, err := w.f.Write(buf.Bytes())
	w.size += int64(n)
	buf.Reset()
	if err != nil && !w.failed {
		w.failed = true
		w.logs.log.Warn("write session log; its lines are lost until writes succeed again", "record", w.id, "err", err)
	}
}

// rotateLocked makes the current segment the previous one (dropping the one before) and
// starts a new current segment. On failure the rest of the session's output is dropped.
func (w *Writer) rotateLocked() {
	cur, prev := w.logs.paths(w.id)
	_ = w.f.Close()
	w.f, w.size = nil, 0
	if err := os.Rename(cur, prev); err != nil {
		w.logs.log.Warn("rotate session log; the rest of its output is dropped", "record", w.id, "err", err)
		return
	}
	f, err := os.OpenFile(cur, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o600)
	if err != nil {
		w.logs.log.Warn("rotate session log; the rest of its output is dropped", "record", w.id, "err", err)
		return
	}
	w.f = f
}

func (w *Writer) export(recs []Record) {
	if len(recs) > 0 && w.logs.opts.Exporter != nil {
		w.logs.opts.Exporter.Export(w.src, recs)
	}
}

// notify returns channels that close at the next write and at Close.
func (w *Writer) notify() (changed, done <-chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.changed, w.done
}

// openSegments opens the previous and current segment for reading, with no rotation in
// between; either may be nil when it does not exist.
func (w *Writer) openSegments() (prev, cur *os.File, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.logs.openSegments(w.id)
}

// Close writes the unfinished lines (marked partial), closes the file, marks it with the
// end time (the sweeper's measure of age) and ends the followers once they have read
// everything. Later writes are discarded. It is idempotent.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
	recs := w.takeUnfinishedLocked(func(*unfinished) bool { return true })
	w.writeLocked(recs)
	var err error
	if w.f != nil {
		err = w.f.Close()
		w.f = nil
	}
	if !w.closed {
		w.closed = true
		now := w.logs.opts.Now()
		cur, _ := w.logs.paths(w.id)
		_ = os.Chtimes(cur, now, now)
		close(w.done)
	}
	w.mu.Unlock()
	w.export(recs)
	w.logs.closed(w)
	return err
}
