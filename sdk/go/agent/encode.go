package agent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// marshal encodes v as JSON without HTML escaping. Values JSON cannot encode fall back to
// their fmt.Sprint text, as the Python SDK falls back to str().
func marshal(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		buf.Reset()
		if err := enc.Encode(fmt.Sprint(v)); err != nil {
			return []byte(`{"error":"Serialization failed","original_type":` + strconv.Quote(fmt.Sprintf("%T", v)) + `}`)
		}
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func errorBody(msg string) map[string]string { return map[string]string{"error": msg} }

func writeJSON(w http.ResponseWriter, status int, v any) {
	body := marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// sseEvent is one Server-Sent Event carrying v.
func sseEvent(v any) []byte {
	b := marshal(v)
	out := make([]byte, 0, len(b)+8)
	out = append(out, "data: "...)
	out = append(out, b...)
	return append(out, "\n\n"...)
}

// streamErrorEvent is the last event of a stream that failed.
func streamErrorEvent(err error) []byte {
	return sseEvent(map[string]string{
		"error":      err.Error(),
		"error_type": strings.TrimPrefix(fmt.Sprintf("%T", err), "*"),
		"message":    "An error occurred during streaming",
	})
}

// Raw returns a result that answers with exactly this status, content type and body.
func Raw(status int, contentType string, body []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		_, _ = w.Write(body)
	})
}
