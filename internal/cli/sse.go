package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// copySSE writes the data of each server-sent event line of r to w as soon as the line
// arrives: every "data:" line becomes one output line (its payload, without the field
// name and the one optional space). Other fields (event:, id:, comments) are dropped.
func copySSE(w io.Writer, r io.Reader) error {
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			line = strings.TrimRight(line, "\r\n")
			if payload, ok := strings.CutPrefix(line, "data:"); ok {
				payload = strings.TrimPrefix(payload, " ")
				if _, werr := fmt.Fprintln(w, payload); werr != nil {
					return fmt.Errorf("write output: %w", werr)
				}
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read event stream: %w", err)
		}
	}
}

// copyBody writes a non-streaming answer to w as it arrives, ending it with a newline.
func copyBody(w io.Writer, r io.Reader) error {
	lw := &lastByteWriter{w: w}
	if _, err := io.Copy(lw, r); err != nil {
		return fmt.Errorf("copy answer: %w", err)
	}
	if lw.n > 0 && lw.last != '\n' {
		if _, err := io.WriteString(w, "\n"); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
	}
	return nil
}

// lastByteWriter remembers the last byte written through it.
type lastByteWriter struct {
	w    io.Writer
	n    int64
	last byte
}

func (l *lastByteWriter) Write(p []byte) (int, error) {
	n, err := l.w.Write(p)
	if n > 0 {
		l.n += int64(n)
		l.last = p[n-1]
	}
	return n, err
}
