package sessionlog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Defaults for Options fields left zero.
const (
	DefaultMaxBytesPerSession = 16 << 20
	DefaultMaxAge             = 7 * 24 * time.Hour
	DefaultMaxTotalBytes      = 1 << 30
	DefaultSweepEvery         = time.Minute
	DefaultPartialDelay       = 200 * time.Millisecond
	// DefaultMaxLineBytes is the longest line kept as one record (a quarter of a segment
	// when MaxBytesPerSession is small).
	DefaultMaxLineBytes = 64 << 10
	// FollowPoll is how often a follower looks at a log no Writer of this process writes.
	FollowPoll = 100 * time.Millisecond
)

// ErrNotLive is Append's error for a session without an open log.
var ErrNotLive = errors.New("the session has no open log")

// Options configure Logs. Dir is required.
type Options struct {
	Dir                string
	MaxBytesPerSession int64
	MaxAge             time.Duration // after the session ended
	MaxTotalBytes      int64
	SweepEvery         time.Duration
	PartialDelay       time.Duration
	MaxLineBytes       int
	Exporter           Exporter     // nil exports nothing
	Logger             *slog.Logger // nil discards
	// Now stamps records and judges ages; nil means time.Now.
	Now func() time.Time
}

// Logs is the session logs in one directory: the open Writers, readers and the sweeper.
type Logs struct {
	opts     Options
	log      *slog.Logger
	segLimit int64 // bytes of one segment file: half of MaxBytesPerSession

	mu      sync.Mutex
	live    map[string]*Writer // by record id
	stopped chan struct{}      // closed by EndFollows

	sweeper struct {
		cancel context.CancelFunc
		done   chan struct{}
	}
}

// New checks opts, fills in defaults and creates Dir. Start runs the sweeper.
func New(opts Options) (*Logs, error) {
	if opts.Dir == "" {
		return nil, errors.New("session logs: no directory")
	}
	if opts.MaxBytesPerSession <= 0 {
		opts.MaxBytesPerSession = DefaultMaxBytesPerSession
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = DefaultMaxAge
	}
	if opts.MaxTotalBytes <= 0 {
		opts.MaxTotalBytes = DefaultMaxTotalBytes
	}
	if opts.SweepEvery <= 0 {
		opts.SweepEvery = DefaultSweepEvery
	}
	if opts.PartialDelay <= 0 {
		opts.PartialDelay = DefaultPartialDelay
	}
	if opts.MaxLineBytes <= 0 {
		opts.MaxLineBytes = DefaultMaxLineBytes
	}
	opts.MaxLineBytes = int(min(int64(opts.MaxLineBytes), max(opts.MaxBytesPerSession/8, 64)))
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("session logs: %w", err)
	}
	return &Logs{
		opts: opts, log: opts.Logger, segLimit: opts.MaxBytesPerSession / 2,
		live: map[string]*Writer{}, stopped: make(chan struct{}),
	}, nil
}

// Path is the file a session's newest lines are in (the one quoted in start-up errors).
func (l *Logs) Path(recordID string) string {
	return filepath.Join(l.opts.Dir, recordID+currentSuffix)
}

// File name suffixes of a session's two segments.
const (
	currentSuffix  = ".log"
	previousSuffix = ".log.1"
)

func (l *Logs) paths(recordID string) (current, previous string) {
	base := filepath.Join(l.opts.Dir, recordID)
	return base + currentSuffix, base + previousSuffix
}

// Open starts the log of the session with record id recordID (appending if it exists) and
// returns its Writer; Close the Writer when the session ends.
func (l *Logs) Open(recordID string, src Source) (*Writer, error) {
	if recordID == "" || filepath.Base(recordID) != recordID {
		return nil, fmt.Errorf("session log: bad record id %q", recordID)
	}
	cur, _ := l.paths(recordID)
	f, err := os.OpenFile(cur, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open session log: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("open session log: %w", err)
	}
	src.RecordID = recordID
	w := newWriter(l, recordID, src, f, fi.Size())
	l.mu.Lock()
	l.live[recordID] = w
	l.mu.Unlock()
	return w, nil
}

// liveWriter is the open Writer of the session, or nil.
func (l *Logs) liveWriter(recordID string) *Writer {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.live[recordID]
}

// closed forgets w once it is closed.
func (l *Logs) closed(w *Writer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.live[w.id] == w {
		delete(l.live, w.id)
	}
}

// Append implements Appender.
func (l *Logs) Append(recordID string, recs []Record) error {
	w := l.liveWriter(recordID)
	if w == nil {
		return fmt.Errorf("session log %s: %w", recordID, ErrNotLive)
	}
	w.append(recs)
	return nil
}

// EndFollows makes every follower, now and later, read what is there and stop: call it when
// the server begins to shut down, so open follow requests do not hold the shutdown up.
func (l *Logs) EndFollows() {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-l.stopped:
	default:
		close(l.stopped)
	}
}

// Start runs the sweeper in the background until Close: one sweep now, then one every
// SweepEvery.
func (l *Logs) Start(ctx context.Context) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	l.sweeper.cancel, l.sweeper.done = cancel, make(chan struct{})
	go func() {
		defer close(l.sweeper.done)
		t := time.NewTicker(l.opts.SweepEvery)
		defer t.Stop()
		for {
			if _, err := l.Sweep(); err != nil {
				l.log.Warn("sweep session logs", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// Close stops the sweeper Start ran and ends the followers. Writers stay open: the session
// manager closes them as sessions end.
func (l *Logs) Close() error {
	l.EndFollows()
	if l.sweeper.cancel != nil {
		l.sweeper.cancel()
		<-l.sweeper.done
	}
	return nil
}
