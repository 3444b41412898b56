package session

import (
	"context"
	"strings"

	"berth.dev/berth/internal/sessionlog"
)

// Bounds of the output quoted in a start-up error.
const (
	logTailBytes = 2048
	logTailLines = 10
)

// Logs is the session logs of this manager (Options.Logs), or nil when output is discarded.
func (m *Manager) Logs() *sessionlog.Logs { return m.opts.Logs }

// logTail returns at most the last logTailLines lines within the last logTailBytes of the
// session's output so far, or "" if there is none or it cannot be read.
func (m *Manager) logTail(s *session) string {
	if s.logFile == nil {
		return ""
	}
	s.logFile.Flush() // an unfinished last line ("Traceback …" without its newline) too
	var text strings.Builder
	ended := func(context.Context) (bool, error) { return true, nil }
	err := m.opts.Logs.Read(context.WithoutCancel(m.base), s.recordID, sessionlog.Query{Tail: logTailLines}, ended, func(recs []sessionlog.Record) error {
		for _, r := range recs {
			text.WriteString(r.Line)
			text.WriteByte('\n')
		}
		return nil
	})
	if err != nil {
		return ""
	}
	return tailText(text.String(), false, logTailBytes, logTailLines)
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
