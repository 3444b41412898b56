package cli

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// progress draws one status line ("Uploading… 3s") that redraws itself while a step runs.
// It draws only when stdout is a terminal: piped or redirected output gets no progress
// noise, only the results the command prints.
type progress struct {
	w     io.Writer
	tty   bool
	mu    sync.Mutex
	msg   string
	start time.Time
	stop  chan struct{}
	done  chan struct{}
}

// newProgress returns a progress line on w (drawing nothing unless w is a terminal).
func newProgress(w io.Writer) *progress {
	return &progress{w: w, tty: isTerminal(w)}
}

// step starts a new step: its message and elapsed time are redrawn every 250 ms until the
// next step or done.
func (p *progress) step(format string, args ...any) {
	if p == nil || !p.tty {
		return
	}
	p.mu.Lock()
	p.msg, p.start = fmt.Sprintf(format, args...), time.Now()
	p.drawLocked()
	var stop, done chan struct{}
	if p.stop == nil {
		stop, done = make(chan struct{}), make(chan struct{})
		p.stop, p.done = stop, done
	}
	p.mu.Unlock()
	if stop != nil {
		go p.loop(stop, done)
	}
}

// loop redraws the line every 250 ms until stop is closed, then closes done.
func (p *progress) loop(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			p.mu.Lock()
			p.drawLocked()
			p.mu.Unlock()
		}
	}
}

func (p *progress) drawLocked() {
	fmt.Fprintf(p.w, "\r\033[K%s (%s)", p.msg, time.Since(p.start).Round(time.Second))
}

// clear stops redrawing and erases the progress line, so the next output starts on a clean
// line. It does nothing when no step was drawn.
func (p *progress) clear() {
	if p == nil || !p.tty {
		return
	}
	p.mu.Lock()
	stop, done := p.stop, p.done
	p.stop, p.done = nil, nil
	p.mu.Unlock()
	if stop == nil {
		return
	}
	close(stop)
	<-done
	fmt.Fprint(p.w, "\r\033[K")
}
