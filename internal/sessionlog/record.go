package sessionlog

import (
	"bytes"
	"encoding/json"
	"time"
)

// Streams a Record comes from.
const (
	StreamStdout = "stdout"
	StreamStderr = "stderr"
	// StreamOutput is stdout and stderr arriving as one: a pooled sandbox's output, and every
	// line of a log written before this format.
	StreamOutput = "output"
	// StreamBerth holds Berth's own notices about the session.
	StreamBerth = "berth"
	// StreamOTel holds log records the agent sent over OTLP (logexport.FromOTLP).
	StreamOTel = "otel"
)

// Record is one line of a session's log, as kept on disk and as GET
// /berth/v1/sessions/{id}/logs answers it (one JSON object per line).
type Record struct {
	// Time is when the line's first byte arrived; zero for lines of a log written before
	// timestamps were kept.
	Time   time.Time `json:"t,omitzero"`
	Stream string    `json:"stream"`
	Line   string    `json:"line"` // without its newline; invalid UTF-8 becomes U+FFFD
	// Partial says the line did not end here: it was cut at MaxLineBytes, written before
	// its newline came (after PartialDelay), or it was the last, unfinished line.
	Partial bool `json:"partial,omitempty"`
}

// appendRecord appends r and a newline to buf in the log's format.
func appendRecord(buf *bytes.Buffer, r Record) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(r) // a Record always encodes
}

// parseLine reads one line of a log file (without its newline). A line that is not a
// Record is a line of a log from before this format: stream output, no time.
func parseLine(b []byte) Record {
	if len(b) > 0 && b[0] == '{' {
		var r struct {
			T       time.Time `json:"t"`
			Stream  *string   `json:"stream"`
			Line    *string   `json:"line"`
			Partial bool      `json:"partial"`
		}
		if json.Unmarshal(b, &r) == nil && r.Stream != nil && r.Line != nil {
			return Record{Time: r.T, Stream: *r.Stream, Line: *r.Line, Partial: r.Partial}
		}
	}
	return Record{Stream: StreamOutput, Line: string(bytes.TrimSuffix(b, []byte("\r")))}
}
