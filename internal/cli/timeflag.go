package cli

import (
	"fmt"
	"time"
)

// pastTime reads a time flag (--since, --from, --to): a duration back from now, or an
// RFC 3339 time; "" is the zero time.
func pastTime(flag, s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Time{}, hintError{fmt.Errorf("%s %q is neither a duration nor a time", flag, s),
		"use a duration such as 10m or 2h, or a time such as 2026-03-14T15:00:00Z"}
}
