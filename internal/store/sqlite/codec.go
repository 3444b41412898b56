package sqlite

import (
	"encoding/json"
	"time"
)

// ms converts t to the stored form: unix milliseconds.
func ms(t time.Time) int64 { return t.UnixMilli() }

// fromMS converts a stored instant back to a UTC time.
func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// encodeJSON renders v for a TEXT column. A nil map becomes "null" and decodes back to nil.
func encodeJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// decodeJSON parses a TEXT column written by encodeJSON into v.
func decodeJSON(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// sqlLimit maps a caller's limit to SQLite's LIMIT: zero or less means no limit.
func sqlLimit(limit int) int {
	if limit <= 0 {
		return -1
	}
	return limit
}

// boolInt stores a bool as INTEGER 0 or 1.
func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
