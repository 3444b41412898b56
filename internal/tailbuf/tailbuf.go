// Package tailbuf keeps the last bytes of a stream — a child process's stderr, a VM's
// console — so that an error can quote what the program said last.
package tailbuf

import (
	"io"
	"strings"
	"sync"
)

// Buffer keeps the last Max bytes written to it and passes every write on to W, if not nil.
// It is safe for concurrent use.
type Buffer struct {
	w   io.Writer
	max int

	mu sync.Mutex
	b  []byte
}

// New returns a Buffer that keeps max bytes and copies writes to w (nil: nowhere).
func New(max int, w io.Writer) *Buffer { return &Buffer{w: w, max: max} }

// Write keeps the tail of p and passes p on.
func (t *Buffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	t.mu.Unlock()
	if t.w == nil {
		return len(p), nil
	}
	return t.w.Write(p)
}

// String returns the kept bytes without leading and trailing white space.
func (t *Buffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.b))
}
