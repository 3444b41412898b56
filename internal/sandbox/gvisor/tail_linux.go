package gvisor

import (
	"io"
	"strings"
	"sync"
)

// tailWriter passes writes on to w (if not nil) and keeps the last max bytes, so that a
// failed Start can say what runsc printed.
type tailWriter struct {
	w   io.Writer
	max int

	mu  sync.Mutex
	buf []byte
}

func (t *tailWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	t.mu.Unlock()
	if t.w == nil {
		return len(p), nil
	}
	return t.w.Write(p)
}

// String returns the kept tail, trimmed.
func (t *tailWriter) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}
