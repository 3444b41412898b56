package dataplane

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/aws/smithy-go/eventstream"
)

// eventStreamContentType is the media type of an AWS event-stream response body.
const eventStreamContentType = "application/vnd.amazon.eventstream"

// eventStream writes an AWS event stream (AGENTCORE-WIRE.md §2.3) as the body of an HTTP
// response, in the binary framing smithy-go's decoder reads: one message per call, flushed
// at once so the caller sees it as soon as it is produced. It is safe for concurrent use.
// After the first failed write (the caller went away) every later call is dropped and
// returns that error.
type eventStream struct {
	mu  sync.Mutex
	w   io.Writer
	rc  *http.ResponseController
	enc *eventstream.Encoder
	err error
}

// startEventStream sets the event-stream Content-Type, writes the response header with
// status and returns the stream for the body.
func startEventStream(w http.ResponseWriter, status int) *eventStream {
	w.Header().Set("Content-Type", eventStreamContentType)
	w.WriteHeader(status)
	s := &eventStream{w: w, rc: http.NewResponseController(w), enc: eventstream.NewEncoder()}
	_ = s.rc.Flush() // the caller sees the response header now, not with the first event
	return s
}

// Event sends an event message: :message-type event, :event-type eventType, and the JSON of
// payload as a payload of type application/json.
func (s *eventStream) Event(eventType string, payload any) error {
	raw, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("encode %s event: %w", eventType, err)
	}
	var h eventstream.Headers
	h.Set(eventstream.MessageTypeHeader, eventstream.StringValue(eventstream.EventMessageType))
	h.Set(eventstream.EventTypeHeader, eventstream.StringValue(eventType))
	h.Set(eventstream.ContentTypeHeader, eventstream.StringValue("application/json"))
	return s.send(h, raw)
}

// Exception sends a modelled error: :message-type exception, :exception-type the name of
// the error's member in the operation's event-stream union (e.g. "runtimeClientError"),
// and the error shape {"message": …} as payload. SDKs turn it into the typed error.
func (s *eventStream) Exception(exceptionType, message string) error {
	raw, err := json.Marshal(struct {
		Message string `json:"message"`
	}{message})
	if err != nil {
		return fmt.Errorf("encode %s exception: %w", exceptionType, err)
	}
	var h eventstream.Headers
	h.Set(eventstream.MessageTypeHeader, eventstream.StringValue(eventstream.ExceptionMessageType))
	h.Set(eventstream.ExceptionTypeHeader, eventstream.StringValue(exceptionType))
	h.Set(eventstream.ContentTypeHeader, eventstream.StringValue("application/json"))
	return s.send(h, raw)
}

// Error sends an unmodelled error: :message-type error with :error-code and
// :error-message headers and no payload. SDKs turn it into a generic API error.
func (s *eventStream) Error(code, message string) error {
	var h eventstream.Headers
	h.Set(eventstream.MessageTypeHeader, eventstream.StringValue(eventstream.ErrorMessageType))
	h.Set(eventstream.ErrorCodeHeader, eventstream.StringValue(code))
	h.Set(eventstream.ErrorMessageHeader, eventstream.StringValue(message))
	return s.send(h, nil)
}

// Err returns the first write error, or nil.
func (s *eventStream) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *eventStream) send(h eventstream.Headers, payload []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	if err := s.enc.Encode(s.w, eventstream.Message{Headers: h, Payload: payload}); err != nil {
		s.err = fmt.Errorf("write event-stream message: %w", err)
		return s.err
	}
	if err := s.rc.Flush(); err != nil {
		s.err = fmt.Errorf("flush event-stream message: %w", err)
		return s.err
	}
	return nil
}
