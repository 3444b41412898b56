package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
)

// fakeModel is an OpenAI-compatible chat-completions endpoint (POST /v1/chat/completions,
// JSON or SSE with stream=true) with a deterministic answer: it repeats the last user
// message and numbers the user turns it was sent. It records what it received.
type fakeModel struct {
	key string // the API key it accepts as "Authorization: Bearer <key>"

	mu   sync.Mutex
	seen []modelRequest
}

// modelRequest is one request the fake model received.
type modelRequest struct {
	Authorization string
	Model         string
	Stream        bool
	Messages      []chatMessage
}

type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// fakeAnswer is the fake model's answer to the last user message of turn n.
func fakeAnswer(question string, n int) string {
	return fmt.Sprintf("You asked %q. This is answer %d.", question, n)
}

func (m *fakeModel) requests() []modelRequest {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]modelRequest(nil), m.seen...)
}

func (m *fakeModel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		writeModelError(w, http.StatusNotFound, "no route "+r.Method+" "+r.URL.Path)
		return
	}
	var in struct {
		Model    string        `json:"model"`
		Stream   bool          `json:"stream"`
		Messages []chatMessage `json:"messages"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeModelError(w, http.StatusBadRequest, "bad JSON: "+err.Error())
		return
	}
	m.mu.Lock()
	m.seen = append(m.seen, modelRequest{Authorization: r.Header.Get("Authorization"), Model: in.Model, Stream: in.Stream, Messages: in.Messages})
	m.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+m.key {
		writeModelError(w, http.StatusUnauthorized, "Incorrect API key provided")
		return
	}
	turns, question := 0, ""
	for _, msg := range in.Messages {
		if msg.Role == "user" {
			turns, question = turns+1, msg.Content
		}
	}
	answer := fakeAnswer(question, turns)
	if !in.Stream {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": "chatcmpl-fake", "object": "chat.completion", "model": in.Model,
			"choices": []any{map[string]any{"index": 0, "message": chatMessage{Role: "assistant", Content: answer}, "finish_reason": "stop"}},
			"usage":   map[string]int{"prompt_tokens": 10 * turns, "completion_tokens": len(strings.Fields(answer)), "total_tokens": 10*turns + len(strings.Fields(answer))},
		})
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	flusher, _ := w.(http.Flusher)
	chunk := func(delta map[string]string, finish any) {
		raw, _ := json.Marshal(map[string]any{
			"id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": in.Model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}},
		})
		_, _ = fmt.Fprintf(w, "data: %s\n\n", raw)
		if flusher != nil {
			flusher.Flush()
		}
	}
	chunk(map[string]string{"role": "assistant"}, nil)
	for _, tok := range strings.SplitAfter(answer, " ") {
		chunk(map[string]string{"content": tok}, nil)
	}
	chunk(map[string]string{}, "stop")
	_, _ = fmt.Fprint(w, "data: [DONE]\n\n")
}

// writeModelError answers in OpenAI's error shape.
func writeModelError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"message": msg, "type": "invalid_request_error"}})
}
