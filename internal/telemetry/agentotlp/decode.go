package agentotlp

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// maxBody bounds one export request, decompressed.
const maxBody = 16 << 20

// Encodings of OTLP/HTTP.
const (
	encProto = "application/x-protobuf"
	encJSON  = "application/json"
)

// errUnsupportedType is a request body that is neither OTLP protobuf nor OTLP JSON.
var errUnsupportedType = errors.New("unsupported content type: OTLP/HTTP takes application/x-protobuf or application/json")

// decodeRequest reads r's body (gzip or not) into msg, as binary protobuf or OTLP JSON, and
// returns the encoding, with which the answer is written.
func decodeRequest(r *http.Request, msg proto.Message) (string, error) {
	enc, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (enc != encProto && enc != encJSON) {
		return "", errUnsupportedType
	}
	var body io.Reader = r.Body
	switch ce := r.Header.Get("Content-Encoding"); ce {
	case "", "identity":
	case "gzip":
		gz, err := gzip.NewReader(r.Body)
		if err != nil {
			return enc, fmt.Errorf("gzip body: %w", err)
		}
		defer func() { _ = gz.Close() }()
		body = gz
	default:
		return enc, fmt.Errorf("unsupported content encoding %q", ce)
	}
	raw, err := io.ReadAll(io.LimitReader(body, maxBody+1))
	if err != nil {
		return enc, fmt.Errorf("read body: %w", err)
	}
	if len(raw) > maxBody {
		return enc, fmt.Errorf("body larger than %d bytes", maxBody)
	}
	if enc == encProto {
		if err := proto.Unmarshal(raw, msg); err != nil {
			return enc, fmt.Errorf("decode OTLP protobuf: %w", err)
		}
		return enc, nil
	}
	raw, err = hexIDsToBase64(raw)
	if err != nil {
		return enc, fmt.Errorf("decode OTLP JSON: %w", err)
	}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(raw, msg); err != nil {
		return enc, fmt.Errorf("decode OTLP JSON: %w", err)
	}
	return enc, nil
}

// writeResponse answers a successful export with the empty response message in enc.
func writeResponse(w http.ResponseWriter, enc string, msg proto.Message) {
	var b []byte
	if enc == encJSON {
		b, _ = protojson.Marshal(msg)
	} else {
		b, _ = proto.Marshal(msg)
	}
	w.Header().Set("Content-Type", enc)
	_, _ = w.Write(b)
}

// idKeys are the OTLP JSON fields that hold trace and span ids: hex strings in OTLP JSON,
// where the protobuf JSON mapping expects base64 for bytes.
var idKeys = map[string]bool{"traceId": true, "spanId": true, "parentSpanId": true}

// hexIDsToBase64 rewrites the id fields of an OTLP JSON document for protojson, keeping every
// number's text (nanosecond times exceed a float64's precision).
func hexIDsToBase64(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	if err := rewriteIDs(doc); err != nil {
		return nil, err
	}
	return json.Marshal(doc)
}

func rewriteIDs(v any) error {
	switch t := v.(type) {
	case map[string]any:
		for k, val := range t {
			if s, ok := val.(string); ok && idKeys[k] {
				b, err := hex.DecodeString(s)
				if err != nil {
					return fmt.Errorf("%s %q is not hex", k, s)
				}
				t[k] = base64.StdEncoding.EncodeToString(b)
				continue
			}
			if err := rewriteIDs(val); err != nil {
				return err
			}
		}
	case []any:
		for _, e := range t {
			if err := rewriteIDs(e); err != nil {
				return err
			}
		}
	}
	return nil
}
