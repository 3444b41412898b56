package gvisor

import (
	"bytes"
	"io"
	"sync"
)

// maxHeldStderr bounds what a startGate holds before the command has started.
const maxHeldStderr = 64 << 10

// startGate stands between `runsc exec`'s standard error and the caller's: until the
// command exists inside the sandbox, whatever arrives may be runsc's own complaint (no such
// program, say), which belongs in the returned error rather than in the command's output.
// It holds those bytes until open (the command started: they were its own output, passed
// on in order) or drop (runsc failed: they are discarded; the caller's error quotes them).
type startGate struct {
	mu   sync.Mutex
	w    io.Writer // nil discards
	held bytes.Buffer
	open bool
	shut bool
}

func (g *startGate) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.open && g.w != nil:
		return g.w.Write(p)
	case g.open || g.shut:
	case g.held.Len() < maxHeldStderr:
		g.held.Write(p[:min(len(p), maxHeldStderr-g.held.Len())])
	}
	return len(p), nil
}

// release passes the held bytes on and everything after them.
func (g *startGate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.open || g.shut {
		return
	}
	g.open = true
	if g.w != nil && g.held.Len() > 0 {
		_, _ = g.w.Write(g.held.Bytes())
	}
	g.held.Reset()
}

// drop discards the held bytes and everything after them.
func (g *startGate) drop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.open {
		g.shut = true
		g.held.Reset()
	}
}
