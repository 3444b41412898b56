package load

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// readEvents reads a text/event-stream from r and calls onEvent with the data of each event
// (data lines joined by "\n") as soon as its terminating blank line arrives. It returns the
// number of events read; a stream ending mid-event is an error.
func readEvents(r io.Reader, onEvent func(data []byte) error) (int, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var (
		data    []byte
		hasData bool
		n       int
	)
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return n, fmt.Errorf("read event stream: line longer than %d bytes", br.Size())
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				if len(line) > 0 || hasData {
					return n, fmt.Errorf("read event stream: %w", io.ErrUnexpectedEOF)
				}
				return n, nil
			}
			return n, fmt.Errorf("read event stream: %w", err)
		}
		line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
		switch {
		case len(line) == 0:
			if !hasData {
				continue
			}
			n++
			if err := onEvent(data); err != nil {
				return n, err
			}
			data, hasData = data[:0], false
		case bytes.HasPrefix(line, []byte("data:")):
			v := bytes.TrimPrefix(bytes.TrimPrefix(line, []byte("data:")), []byte(" "))
			if hasData {
				data = append(data, '\n')
			}
			data, hasData = append(data, v...), true
		}
	}
}

// eventIndex returns i from a test-agent event {"i":<i>,…} without a full JSON decode, so
// counting many events costs the client little.
func eventIndex(data []byte) (int, error) {
	rest, ok := bytes.CutPrefix(data, []byte(`{"i":`))
	if !ok {
		return 0, fmt.Errorf("event %q: no leading \"i\"", truncate(data))
	}
	end := bytes.IndexAny(rest, ",}")
	if end < 0 {
		return 0, fmt.Errorf("event %q: unterminated \"i\"", truncate(data))
	}
	i, err := strconv.Atoi(string(rest[:end]))
	if err != nil {
		return 0, fmt.Errorf("event %q: %w", truncate(data), err)
	}
	return i, nil
}

func truncate(b []byte) []byte {
	if len(b) > 80 {
		return b[:80]
	}
	return b
}
