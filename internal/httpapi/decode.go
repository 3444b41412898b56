package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"berth.dev/berth/internal/errdefs"
)

// MaxControlBody bounds control-plane request bodies.
const MaxControlBody = 2 << 20

// DecodeJSON reads a JSON request body into v. An empty body decodes as {}. Malformed JSON
// or a value of the wrong type is a ValidationException with reason CannotParse naming the
// member.
func DecodeJSON(r *http.Request, v any) error {
	body := http.MaxBytesReader(nil, r.Body, MaxControlBody)
	raw, err := io.ReadAll(body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return cannotParse("request body is larger than %d bytes", MaxControlBody)
		}
		return fmt.Errorf("read request body: %w", err)
	}
	if len(strings.TrimSpace(string(raw))) == 0 {
		raw = []byte("{}")
	}
	if err := json.Unmarshal(raw, v); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te):
			return cannotParse("value at '%s' must be of type %s, not %s", te.Field, te.Type, te.Value)
		case errors.As(err, &se):
			return cannotParse("request body is not valid JSON at offset %d: %v", se.Offset, se)
		default:
			return cannotParse("request body is not valid JSON: %v", err)
		}
	}
	return nil
}

func cannotParse(format string, args ...any) error {
	return &errdefs.ValidationError{Reason: errdefs.ReasonCannotParse, Msg: fmt.Sprintf(format, args...)}
}

// QueryInt parses an optional integer query parameter.
func QueryInt(r *http.Request, name string) (*int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return nil, errdefs.Invalid(name, "Member must be an integer")
	}
	return &n, nil
}

// QueryString returns an optional query parameter (nil when absent).
func QueryString(r *http.Request, name string) *string {
	q := r.URL.Query()
	if !q.Has(name) {
		return nil
	}
	s := q.Get(name)
	return &s
}

// EncodePageToken makes an opaque nextToken for a cursor.
func EncodePageToken(kind, cursor string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("v1|" + kind + "|" + cursor))
}

// DecodePageToken returns the cursor of a token made by EncodePageToken for kind.
func DecodePageToken(kind, token string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err == nil {
		parts := strings.SplitN(string(raw), "|", 3)
		if len(parts) == 3 && parts[0] == "v1" && parts[1] == kind {
			return parts[2], nil
		}
	}
	return "", errdefs.Invalid("nextToken", "the pagination token is not valid for this operation")
}
