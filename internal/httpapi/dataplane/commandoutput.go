package dataplane

import (
	"unicode/utf8"
)

// maxDeltaBytes bounds the output carried by one contentDelta event.
const maxDeltaBytes = 64 << 10

// responseChunk is the payload of a "chunk" event of InvokeAgentRuntimeCommand: exactly one
// member is set.
type responseChunk struct {
	ContentStart *struct{}     `json:"contentStart,omitempty"`
	ContentDelta *contentDelta `json:"contentDelta,omitempty"`
	ContentStop  *contentStop  `json:"contentStop,omitempty"`
}

type contentDelta struct {
	Stdout *string `json:"stdout,omitempty"`
	Stderr *string `json:"stderr,omitempty"`
}

type contentStop struct {
	ExitCode int    `json:"exitCode"`
	Status   string `json:"status"`
}

// outputStream is an io.Writer for one output stream of a command ("stdout" or "stderr")
// that sends what is written as contentDelta events, at once. Event payloads are JSON
// strings, so it never splits a UTF-8 sequence between events: an incomplete sequence at
// the end of a write waits for the next write (or flush). Each byte that is not part of
// valid UTF-8 arrives as U+FFFD. One goroutine writes to it at a time (exec's copier); the
// event stream serializes the two outputs.
type outputStream struct {
	es      *eventStream
	stderr  bool
	pending []byte // the start of an incomplete UTF-8 sequence
}

func newOutputStream(es *eventStream, name string) *outputStream {
	return &outputStream{es: es, stderr: name == "stderr"}
}

// Write sends p; it fails once the caller has gone away.
func (o *outputStream) Write(p []byte) (int, error) {
	buf := append(o.pending, p...)
	cut := completeUTF8(buf)
	o.pending = append([]byte(nil), buf[cut:]...)
	if err := o.send(buf[:cut]); err != nil {
		return 0, err
	}
	return len(p), nil
}

// flush sends a trailing incomplete sequence, if any (as U+FFFD, one per byte).
func (o *outputStream) flush() {
	_ = o.send(o.pending)
	o.pending = nil
}

func (o *outputStream) send(b []byte) error {
	for len(b) > 0 {
		n := utf8Prefix(b, maxDeltaBytes)
		s := string(b[:n])
		d := &contentDelta{Stdout: &s}
		if o.stderr {
			d = &contentDelta{Stderr: &s}
		}
		if err := o.es.Event("chunk", responseChunk{ContentDelta: d}); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// completeUTF8 returns the length of the longest prefix of b that does not end inside a
// UTF-8 sequence.
func completeUTF8(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if utf8.FullRune(b[i:]) {
				return len(b)
			}
			return i
		}
	}
	return len(b)
}

// utf8Prefix returns how many bytes of b, at most limit (> utf8.UTFMax), to send in one
// piece without splitting a UTF-8 sequence.
func utf8Prefix(b []byte, limit int) int {
	if len(b) <= limit {
		return len(b)
	}
	for i := limit; i > limit-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			return i
		}
	}
	return limit // not UTF-8 anyway
}
