package session

import (
	"errors"
	"io"
	"os"
	"strings"
)

// Bounds of the output quoted in a start-up error.
const (
	logTailBytes = 2048
	logTailLines = 10
)

// logTail returns at most the last maxLines lines within the last maxBytes of the file at
// path, or "" if it cannot be read.
func logTail(path string, maxBytes int64, maxLines int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer func() { _ = f.Close() }()
	fi, err := f.Stat()
	if err != nil {
		return ""
	}
	off := max(fi.Size()-maxBytes, 0)
	buf := make([]byte, fi.Size()-off)
	n, err := f.ReadAt(buf, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return ""
	}
	return tailText(string(buf[:n]), off > 0, maxBytes, maxLines)
}

// tailText returns at most the last maxLines lines within the last maxBytes of text; cut
// says text already starts mid-output, so its first line is partial.
func tailText(text string, cut bool, maxBytes int64, maxLines int) string {
	if int64(len(text)) > maxBytes {
		text, cut = text[int64(len(text))-maxBytes:], true
	}
	if cut {
		// Drop the partial first line.
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			text = text[i+1:]
		}
	}
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(lines) > maxLines {
		lines = lines[len(lines)-maxLines:]
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}
