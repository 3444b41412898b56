package session

import (
	"fmt"
	"io"
	"sync"

	"berth.dev/berth/internal/sessionlog"
)

// handoverBuffer bounds the output a pooled sandbox's agent may write before a session
// takes it; the rest is counted and dropped.
const handoverBuffer = 64 << 10

// handover is a pooled sandbox's output. Until the hand-over it keeps the first
// handoverBuffer bytes, in order, each with its stream; handOver writes them to the
// session's log and sends all later output straight there. Write is stream output (stdout
// and stderr as one); stream gives a writer per stream, so the session's log keeps them
// apart. It is safe for concurrent use.
type handover struct {
	mu      sync.Mutex
	chunks  []outputChunk
	size    int
	dropped int64
	handed  bool
	dst     io.Writer // after handOver; nil discards
}

// outputChunk is output of one stream, in the order it arrived.
type outputChunk struct {
	stream string
	p      []byte
}

// streamWriters are destinations that keep streams apart (*sessionlog.Writer).
type streamWriters interface {
	Stream(name string) io.Writer
}

var _ io.Writer = (*handover)(nil)

// Write buffers p (as stream output) before the hand-over and forwards it after. It never
// fails before the hand-over, so an agent's output never blocks or breaks while it waits
// in a pool.
func (h *handover) Write(p []byte) (int, error) { return h.write(sessionlog.StreamOutput, p) }

// stream is the writer of one stream (sessionlog.StreamStdout, …), for a Spec's Stdout and
// Stderr.
func (h *handover) stream(name string) io.Writer { return handoverStream{h, name} }

type handoverStream struct {
	h      *handover
	stream string
}

func (s handoverStream) Write(p []byte) (int, error) { return s.h.write(s.stream, p) }

func (h *handover) write(stream string, p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.handed {
		if h.dst == nil {
			return len(p), nil
		}
		return h.to(stream).Write(p)
	}
	n := min(handoverBuffer-h.size, len(p))
	if n > 0 {
		if last := len(h.chunks) - 1; last >= 0 && h.chunks[last].stream == stream {
			h.chunks[last].p = append(h.chunks[last].p, p[:n]...)
		} else {
			h.chunks = append(h.chunks, outputChunk{stream, append([]byte(nil), p[:n]...)})
		}
	}
	h.size += n
	h.dropped += int64(len(p) - n)
	return len(p), nil
}

// to is where output of stream goes after the hand-over.
func (h *handover) to(stream string) io.Writer {
	if sw, ok := h.dst.(streamWriters); ok {
		return sw.Stream(stream)
	}
	return h.dst
}

// handOver writes the buffered output (and how much was dropped) to dst and makes dst
// receive everything after; a nil dst discards. Output is never reordered: writes wait
// while it runs.
func (h *handover) handOver(dst io.Writer) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.dst = dst
	var err error
	if dst != nil {
		for _, c := range h.chunks {
			if _, err = h.to(c.stream).Write(c.p); err != nil {
				break
			}
		}
		if h.dropped > 0 && err == nil {
			_, err = fmt.Fprintf(dst, "berth: %d more bytes of output from before this session were dropped\n", h.dropped)
		}
	}
	h.chunks, h.size, h.handed = nil, 0, true
	if err != nil {
		return fmt.Errorf("hand over sandbox output: %w", err)
	}
	return nil
}

// tail returns the end of the buffered output (all streams), as logTail quotes a session
// log.
func (h *handover) tail() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var all []byte
	for _, c := range h.chunks {
		all = append(all, c.p...)
	}
	return tailText(string(all), false, logTailBytes, logTailLines)
}
