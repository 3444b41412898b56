package sessionlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"
)

// Query selects the lines Read returns.
type Query struct {
	// Tail keeps only the last Tail lines of what is already there; negative keeps all.
	// New lines while following are all returned.
	Tail int
	// Since drops lines before it (and lines without a time); zero keeps all.
	Since time.Time
	// Follow keeps reading new lines as they are written, until the session has ended.
	Follow bool
}

// batchSize bounds the records one emit call gets.
const batchSize = 256

// Read calls emit with the session's lines that q selects, in order, in batches: first what
// is there (one call, even if empty, when following), then, when following, each batch of
// new lines as soon as it is written. Following ends, with nil, when the session's Writer
// in this process closes and everything is read, when ended reports true for a log no
// Writer of this process writes (checked every FollowPoll), or after EndFollows. An error
// from emit or ended ends Read with that error; so does ctx. ended is called only when
// following (it may be nil otherwise).
func (l *Logs) Read(ctx context.Context, recordID string, q Query, ended func(context.Context) (bool, error), emit func([]Record) error) error {
	var prev, cur *os.File
	var err error
	if w := l.liveWriter(recordID); w != nil {
		prev, cur, err = w.openSegments()
	} else {
		if q.Follow {
			// A log no one writes any more is read like one not followed.
			over, err := ended(ctx)
			if err != nil {
				return err
			}
			q.Follow = !over
		}
		prev, cur, err = l.openSegments(recordID)
	}
	if err != nil {
		return err
	}
	defer closeFile(prev)
	sel := selector{since: q.Since, tail: q.Tail, emit: emit}
	if prev != nil {
		if err := readAll(prev, sel.add); err != nil {
			closeFile(cur)
			return err
		}
	}
	cur2, _ := l.paths(recordID)
	f := &follower{path: cur2, f: cur}
	defer func() { closeFile(f.f) }()
	if err := f.read(sel.add); err != nil {
		return err
	}
	if !q.Follow {
		if err := f.finish(sel.add); err != nil {
			return err
		}
		return sel.flush(false)
	}
	if err := sel.flush(true); err != nil {
		return err
	}
	return l.follow(ctx, recordID, f, &sel, ended)
}

// follow reads new lines of the session's log until it ends.
func (l *Logs) follow(ctx context.Context, recordID string, f *follower, sel *selector, ended func(context.Context) (bool, error)) error {
	sel.tail = -1
	poll := time.NewTicker(FollowPoll)
	defer poll.Stop()
	var w *Writer // once found, its done says when the log is complete
	for {
		var changed, done <-chan struct{}
		if w == nil {
			w = l.liveWriter(recordID)
		}
		if w != nil {
			changed, done = w.notify()
		}
		if err := f.pump(sel.add); err != nil {
			return err
		}
		if err := sel.flush(false); err != nil {
			return err
		}
		var tick <-chan time.Time
		if w == nil {
			over, err := ended(ctx)
			if err != nil {
				return err
			}
			if over {
				return l.finish(f, sel)
			}
			tick = poll.C
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("follow session log: %w", ctx.Err())
		case <-l.stopped:
			return l.finish(f, sel)
		case <-done:
			return l.finish(f, sel)
		case <-changed:
		case <-tick:
		}
	}
}

// finish reads the rest of a log no one writes any more.
func (l *Logs) finish(f *follower, sel *selector) error {
	if err := f.pump(sel.add); err != nil {
		return err
	}
	if err := f.finish(sel.add); err != nil {
		return err
	}
	return sel.flush(false)
}

// openSegments opens the session's previous and current segment; a missing one is nil.
func (l *Logs) openSegments(recordID string) (prev, cur *os.File, err error) {
	curPath, prevPath := l.paths(recordID)
	if prev, err = openIfExists(prevPath); err != nil {
		return nil, nil, err
	}
	if cur, err = openIfExists(curPath); err != nil {
		closeFile(prev)
		return nil, nil, err
	}
	return prev, cur, nil
}

func openIfExists(path string) (*os.File, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open session log: %w", err)
	}
	return f, nil
}

func closeFile(f *os.File) {
	if f != nil {
		_ = f.Close()
	}
}

// readAll reads a finished segment: every line, the last one even without its newline.
func readAll(f *os.File, add func(Record) error) error {
	fl := &follower{f: f}
	if err := fl.read(add); err != nil {
		return err
	}
	return fl.finish(add)
}

// follower reads a log's current segment as it grows, across rotations.
type follower struct {
	path string   // of the current segment
	f    *os.File // nil until the segment exists
	rest []byte   // bytes after the last newline read
}

// read adds every complete line from the read position to the end of the file.
func (fl *follower) read(add func(Record) error) error {
	if fl.f == nil {
		return nil
	}
	buf := make([]byte, 64<<10)
	for {
		n, err := fl.f.Read(buf)
		data := buf[:n]
		for len(data) > 0 {
			line, rest, complete := bytes.Cut(data, []byte("\n"))
			if !complete {
				fl.rest = append(fl.rest, line...)
				break
			}
			data = rest
			if len(fl.rest) > 0 {
				line = append(fl.rest, line...)
				fl.rest = fl.rest[:0]
			}
			if err := add(parseLine(line)); err != nil {
				return err
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read session log: %w", err)
		}
	}
}

// finish adds the last line, which has no newline: a log from before this format, or one
// cut short.
func (fl *follower) finish(add func(Record) error) error {
	if len(fl.rest) == 0 {
		return nil
	}
	line := fl.rest
	fl.rest = nil
	return add(parseLine(line))
}

// pump reads new lines; when the segment it reads has become the previous one (a
// rotation), it reads that to the end and moves on to the new current segment.
func (fl *follower) pump(add func(Record) error) error {
	for {
		if fl.f == nil {
			f, err := openIfExists(fl.path)
			if err != nil || f == nil {
				return err
			}
			fl.f = f
		}
		if err := fl.read(add); err != nil {
			return err
		}
		now, err := os.Stat(fl.path)
		if err != nil {
			return nil // mid-rotation (the new segment comes next) or removed
		}
		mine, err := fl.f.Stat()
		if err != nil {
			return fmt.Errorf("read session log: %w", err)
		}
		if os.SameFile(now, mine) {
			return nil
		}
		// Rotated: the writer wrote its last line to our file before it renamed it.
		if err := fl.read(add); err != nil {
			return err
		}
		if err := fl.finish(add); err != nil {
			return err
		}
		closeFile(fl.f)
		fl.f = nil
	}
}

// selector applies a Query's Since and Tail and hands records to emit in batches.
type selector struct {
	since time.Time
	tail  int // < 0: all
	emit  func([]Record) error
	recs  []Record // a ring of the last tail records when tail >= 0
	next  int      // ring position of the oldest record, once it is full
}

func (s *selector) add(r Record) error {
	if !s.since.IsZero() && r.Time.Before(s.since) {
		return nil
	}
	switch {
	case s.tail < 0:
		s.recs = append(s.recs, r)
		if len(s.recs) >= batchSize {
			return s.flush(false)
		}
	case s.tail == 0:
	case len(s.recs) < s.tail:
		s.recs = append(s.recs, r)
	default:
		s.recs[s.next] = r
		s.next = (s.next + 1) % s.tail
	}
	return nil
}

// flush emits the selected records (oldest first); always says emit even with none.
func (s *selector) flush(always bool) error {
	if len(s.recs) == 0 && !always {
		return nil
	}
	out := append(s.recs[s.next:len(s.recs):len(s.recs)], s.recs[:s.next]...)
	s.recs, s.next = nil, 0
	for len(out) > batchSize {
		if err := s.emit(out[:batchSize]); err != nil {
			return err
		}
		out = out[batchSize:]
	}
	return s.emit(out)
}
