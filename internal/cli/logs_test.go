package cli

import (
	"testing"
	"time"

	"berth.dev/berth/internal/client"
)

func TestLogLine(t *testing.T) {
	at := time.Date(2026, 3, 14, 15, 9, 26, 535_000_000, time.FixedZone("CET", 3600))
	for _, c := range []struct {
		rec  client.LogRecord
		want string
	}{
		{client.LogRecord{Time: at, Stream: "stdout", Line: "hello"}, "2026-03-14T14:09:26.535Z hello\n"},
		{client.LogRecord{Time: at, Stream: "output", Line: "either"}, "2026-03-14T14:09:26.535Z either\n"},
		{client.LogRecord{Time: at, Stream: "stderr", Line: "oops"}, "2026-03-14T14:09:26.535Z stderr: oops\n"},
		{client.LogRecord{Time: at, Stream: "berth", Line: "notice"}, "2026-03-14T14:09:26.535Z berth: notice\n"},
		{client.LogRecord{Stream: "output", Line: "old"}, "-                        old\n"},
	} {
		if got := logLine(c.rec); got != c.want {
			t.Errorf("logLine(%+v) = %q, want %q", c.rec, got, c.want)
		}
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"":                     {},
		"10m":                  now.Add(-10 * time.Minute),
		"2026-03-14T12:00:00Z": time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC),
	} {
		got, err := pastTime("--since", in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("pastTime(--since, %q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"yesterday", "-5m"} {
		if _, err := pastTime("--since", bad, now); err == nil {
			t.Errorf("pastTime(--since, %q) succeeded", bad)
		}
	}
}
