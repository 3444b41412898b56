package client

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"berth.dev/berth/internal/sessionlog"
)

// LogRecord is one line of a session's log: the wire shape of
// GET /berth/v1/sessions/{id}/logs, declared once in internal/sessionlog (it is also the
// format on disk).
type LogRecord = sessionlog.Record

// LogQuery selects the lines SessionLogs returns.
type LogQuery struct {
	Tail   int       // the last Tail lines only; negative means all
	Since  time.Time // lines from then on; zero means all
	Follow bool      // keep reading new lines until the session has ended
}

// maxLogLine bounds one NDJSON line of the answer (a 64 KiB line escaped as JSON fits).
const maxLogLine = 1 << 20

// SessionLogs reads the log of the session with record id id and calls fn with each line,
// in order, as it arrives; with q.Follow it returns once the session has ended and
// everything is read (or ctx ends, or fn fails, with that error).
func (c *Client) SessionLogs(ctx context.Context, id string, q LogQuery, fn func(LogRecord) error) error {
	query := url.Values{}
	if q.Tail >= 0 {
		query.Set("tail", strconv.Itoa(q.Tail))
	}
	if !q.Since.IsZero() {
		query.Set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	if q.Follow {
		query.Set("follow", "true")
	}
	path := "/berth/v1/sessions/" + url.PathEscape(id) + "/logs"
	resp, err := c.send(ctx, path, query)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), maxLogLine)
	for sc.Scan() {
		var rec LogRecord
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return fmt.Errorf("GET %s: decode line: %w", path, err)
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("GET %s: read answer: %w", path, err)
	}
	return nil
}
