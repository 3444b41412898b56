// Command go-image is an agent written with Berth's Go SDK (sdk/go/agent) and shipped as an
// OCI image: a static binary in a single-layer image, no base image, deployed from Berth's
// built-in registry. It serves the AgentCore HTTP protocol contract on 0.0.0.0:$PORT (8080
// when PORT is unset).
//
// Payloads:
//
//	{"prompt": "Berth"}             → {"result": "Hello, Berth!", "calls": 1, "session": "…", "go": "go1.26"}
//	{"prompt": "Berth", "count": 3} → Server-Sent Events {"i": 1, "of": 3, "text": "Hello, Berth! (1/3)"} …
//
// "calls" counts the invocations this process served: Berth runs one sandbox per session, so
// it counts the session's calls. GREETING (from the image's or the runtime's environment)
// replaces "Hello".
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"sync/atomic"
	"syscall"

	"berth.dev/berth/sdk/go/agent"
)

// maxCount bounds the number of streamed events one invocation may ask for.
const maxCount = 1000

// request is the invocation payload.
type request struct {
	Prompt string `json:"prompt"`
	Count  int    `json:"count"`
}

// reply is the JSON answer.
type reply struct {
	Result  string `json:"result"`
	Calls   int64  `json:"calls"`
	Session string `json:"session"`
	Go      string `json:"go"`
}

// event is one streamed event.
type event struct {
	I    int    `json:"i"`
	Of   int    `json:"of"`
	Text string `json:"text"`
}

// newAgent returns the agent; greeting starts every answer.
func newAgent(greeting string) *agent.App {
	var calls atomic.Int64
	return agent.New(func(ctx context.Context, req agent.Request) (any, error) {
		var in request
		if err := req.Decode(&in); err != nil {
			return nil, agent.Error(http.StatusBadRequest, err.Error())
		}
		if in.Prompt == "" {
			in.Prompt = "world"
		}
		if in.Count < 0 || in.Count > maxCount {
			return nil, agent.Errorf(http.StatusBadRequest, "count must be between 0 and %d", maxCount)
		}
		n := calls.Add(1)
		text := fmt.Sprintf("%s, %s!", greeting, in.Prompt)
		if in.Count == 0 {
			return reply{Result: text, Calls: n, Session: agent.SessionID(ctx), Go: runtime.Version()}, nil
		}
		return agent.StreamFunc(func(ctx context.Context, s *agent.Stream) error {
			for i := 1; i <= in.Count; i++ {
				if err := s.Send(event{I: i, Of: in.Count, Text: fmt.Sprintf("%s (%d/%d)", text, i, in.Count)}); err != nil {
					return err
				}
			}
			return nil
		}), nil
	})
}

func main() {
	greeting := os.Getenv("GREETING")
	if greeting == "" {
		greeting = "Hello"
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newAgent(greeting).ListenAndServe(ctx); err != nil {
		slog.Error("agent stopped", "err", err)
		os.Exit(1)
	}
}
