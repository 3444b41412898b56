package session

import (
	"fmt"
	"io"
	"sync"
)

// handoverBuffer bounds the output a pooled sandbox's agent may write before a session
// takes it; the rest is counted and dropped.
const handoverBuffer = 64 << 10

// handover is a pooled sandbox's stdout and stderr (one writer for both, so exec copies
// them through one pipe). Until the hand-over it keeps the first handoverBuffer bytes;
// handOver writes them to the session's log and sends all later output straight there. It
// is safe for concurrent use.
type handover struct {
	mu      sync.Mutex
	buf     []byte
	dropped int64
	handed  bool
	dst     io.Writer // after handOver; nil discards
}

var _ io.Writer = (*handover)(nil)

// Write buffers p before the hand-over and forwards it after. It never fails before the
// hand-over, so an agent's output never blocks or breaks while it waits in a pool.
func (h *handover) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.handed {
		if h.dst == nil {
			return len(p), nil
		}
		return h.dst.Write(p)
	}
	n := min(handoverBuffer-len(h.buf), len(p))
	h.buf = append(h.buf, p[:n]...)
	h.dropped += int64(len(p) - n)
	return len(p), nil
}

// handOver writes the buffered output (and how much was dropped) to dst and makes dst
// receive everything after; a nil dst discards. Output is never reordered: writes wait
// while it runs.
func (h *handover) handOver(dst io.Writer) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	var err error
	if dst != nil {
		_, err = dst.Write(h.buf)
		if h.dropped > 0 && err == nil {
			_, err = fmt.Fprintf(dst, "berth: %d more bytes of output from before this session were dropped\n", h.dropped)
		}
	}
	h.buf, h.handed, h.dst = nil, true, dst
	if err != nil {
		return fmt.Errorf("hand over sandbox output: %w", err)
	}
	return nil
}

// tail returns the end of the buffered output, as logTail quotes a session log.
func (h *handover) tail() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return tailText(string(h.buf), false, logTailBytes, logTailLines)
}
