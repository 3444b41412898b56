// Command a2a-agent-go is an A2A agent built with the official A2A Go SDK
// (github.com/a2aproject/a2a-go), deployable to Berth (or AWS Bedrock AgentCore) as an A2A
// runtime. It follows the A2A container contract: JSON-RPC 2.0 at POST / on 0.0.0.0:$PORT
// (9000 when PORT is unset), its agent card at GET /.well-known/agent-card.json, and GET
// /ping. The card's url is $AGENTCORE_RUNTIME_URL, which Berth sets to the runtime's public
// invocation URL, so clients that read the card talk to the agent through Berth.
//
// The agent has one skill, "word-stats": every message becomes a task that goes submitted →
// working → completed and yields one artifact, "word-stats", with a text summary and the
// numbers as data:
//
//	{"words": 3, "characters": 15, "longest": "hello", "tasksInSession": 1}
//
// tasksInSession counts the tasks this process has completed. Berth runs one sandbox per
// session, so it counts the session's tasks, and tasks/get finds a task only in the session
// that ran it.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/a2aproject/a2a-go/a2a"
	"github.com/a2aproject/a2a-go/a2asrv"
	"github.com/a2aproject/a2a-go/a2asrv/eventqueue"
)

// Stats are what the word-stats skill computes for a text.
type Stats struct {
	Words      int    `json:"words"`
	Characters int    `json:"characters"`
	Longest    string `json:"longest"`
}

// statsOf counts the words and characters of text and finds its longest word.
func statsOf(text string) Stats {
	words := strings.Fields(text)
	s := Stats{Words: len(words), Characters: utf8.RuneCountInString(text)}
	for _, w := range words {
		if utf8.RuneCountInString(w) > utf8.RuneCountInString(s.Longest) {
			s.Longest = w
		}
	}
	return s
}

// statsExecutor runs the word-stats skill as an A2A task.
type statsExecutor struct {
	done atomic.Int64 // tasks completed by this process
}

var _ a2asrv.AgentExecutor = (*statsExecutor)(nil)

// Execute reports the task's progress and writes its artifact; the server turns the events
// into a task (message/send) or streams them (message/stream).
func (e *statsExecutor) Execute(ctx context.Context, reqCtx *a2asrv.RequestContext, q eventqueue.Queue) error {
	if reqCtx.StoredTask == nil {
		if err := q.Write(ctx, a2a.NewStatusUpdateEvent(reqCtx, a2a.TaskStateSubmitted, nil)); err != nil {
			return fmt.Errorf("write submitted status: %w", err)
		}
	}
	if err := q.Write(ctx, a2a.NewStatusUpdateEvent(reqCtx, a2a.TaskStateWorking, nil)); err != nil {
		return fmt.Errorf("write working status: %w", err)
	}
	var text []string
	if reqCtx.Message != nil {
		for _, p := range reqCtx.Message.Parts {
			if tp, ok := p.(a2a.TextPart); ok {
				text = append(text, tp.Text)
			}
		}
	}
	s := statsOf(strings.Join(text, "\n"))
	n := e.done.Add(1)
	artifact := a2a.NewArtifactEvent(reqCtx,
		a2a.TextPart{Text: fmt.Sprintf("%d words, %d characters; the longest word is %q.", s.Words, s.Characters, s.Longest)},
		a2a.DataPart{Data: map[string]any{"words": s.Words, "characters": s.Characters, "longest": s.Longest, "tasksInSession": n}},
	)
	artifact.Artifact.Name = "word-stats"
	artifact.LastChunk = true
	if err := q.Write(ctx, artifact); err != nil {
		return fmt.Errorf("write artifact: %w", err)
	}
	completed := a2a.NewStatusUpdateEvent(reqCtx, a2a.TaskStateCompleted, nil)
	completed.Final = true
	if err := q.Write(ctx, completed); err != nil {
		return fmt.Errorf("write completed status: %w", err)
	}
	return nil
}

// Cancel has nothing to stop: tasks finish at once.
func (e *statsExecutor) Cancel(ctx context.Context, reqCtx *a2asrv.RequestContext, q eventqueue.Queue) error {
	ev := a2a.NewStatusUpdateEvent(reqCtx, a2a.TaskStateCanceled, nil)
	ev.Final = true
	return q.Write(ctx, ev)
}

// card describes the agent; url is where clients reach it.
func card(url string) *a2a.AgentCard {
	return &a2a.AgentCard{
		Name:               "word-stats",
		Description:        "Counts the words and characters of a text and finds its longest word.",
		URL:                url,
		PreferredTransport: a2a.TransportProtocolJSONRPC,
		ProtocolVersion:    "0.3.0",
		Version:            "1.0.0",
		DefaultInputModes:  []string{"text/plain"},
		DefaultOutputModes: []string{"text/plain", "application/json"},
		Capabilities:       a2a.AgentCapabilities{Streaming: true},
		Skills: []a2a.AgentSkill{{
			ID: "word-stats", Name: "Word statistics", Tags: []string{"text"},
			Description: "Words, characters and the longest word of the message's text.",
			Examples:    []string{"How long is this sentence?"},
		}},
	}
}

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	port := os.Getenv("PORT")
	if port == "" {
		port = "9000"
	}
	url := os.Getenv("AGENTCORE_RUNTIME_URL")
	if url == "" {
		url = "http://127.0.0.1:" + port + "/" // running outside Berth
	}
	mux := http.NewServeMux()
	mux.Handle("POST /{$}", a2asrv.NewJSONRPCHandler(a2asrv.NewHandler(&statsExecutor{})))
	mux.Handle("GET "+a2asrv.WellKnownAgentCardPath, a2asrv.NewStaticAgentCardHandler(card(url)))
	mux.HandleFunc("GET /ping", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"status": "Healthy"})
	})

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := &http.Server{Addr: "0.0.0.0:" + port, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	logger.Info("A2A agent listening", "addr", srv.Addr, "card_url", url)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Error("serve", "err", err)
		os.Exit(1)
	}
}
