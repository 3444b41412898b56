// Command a2aagent is Berth's A2A test agent, built with the official a2a-go SDK: it follows
// the AgentCore A2A container contract (AGENTCORE-WIRE.md §4.6). It listens on
// 0.0.0.0:$PORT (default 9000) and serves
//
//	POST /                              A2A JSON-RPC 2.0 (message/send, message/stream, tasks/…)
//	GET  /.well-known/agent-card.json   its agent card, whose url is $AGENTCORE_RUNTIME_URL
//	GET  /ping                          {"status":"Healthy"}
//
// Every message is answered with one agent message whose text is "echo: " and the text of
// the request, and whose metadata holds "count": how many messages this process has handled
// (session state) and "pid".
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/a2aproject/a2a-go/a2a"
	"github.com/a2aproject/a2a-go/a2asrv"
	"github.com/a2aproject/a2a-go/a2asrv/eventqueue"
)

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "9000"
	}
	url := os.Getenv("AGENTCORE_RUNTIME_URL")
	if url == "" {
		url = "http://127.0.0.1:" + port + "/"
	}
	card := &a2a.AgentCard{
		Name:               "berth-a2a-echo",
		Description:        "Echoes every message and counts them",
		URL:                url,
		PreferredTransport: a2a.TransportProtocolJSONRPC,
		ProtocolVersion:    "0.3.0",
		Version:            "1.0.0",
		DefaultInputModes:  []string{"text/plain"},
		DefaultOutputModes: []string{"text/plain"},
		Capabilities:       a2a.AgentCapabilities{Streaming: true},
		Skills: []a2a.AgentSkill{{
			ID: "echo", Name: "Echo", Description: "Answers with the text it was sent", Tags: []string{"echo"},
		}},
	}
	mux := http.NewServeMux()
	mux.Handle("POST /{$}", a2asrv.NewJSONRPCHandler(a2asrv.NewHandler(&echoExecutor{})))
	mux.Handle("GET "+a2asrv.WellKnownAgentCardPath, a2asrv.NewStaticAgentCardHandler(card))
	mux.HandleFunc("GET /ping", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"status": "Healthy"})
	})
	fmt.Fprintln(os.Stdout, "a2aagent listening on 0.0.0.0:"+port+", card url "+url)
	srv := &http.Server{Addr: "0.0.0.0:" + port, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, "a2aagent:", err)
		os.Exit(1)
	}
}

// echoExecutor answers each message with its text and a running count.
type echoExecutor struct {
	count atomic.Int64
}

var _ a2asrv.AgentExecutor = (*echoExecutor)(nil)

// Execute writes the one reply message.
func (e *echoExecutor) Execute(ctx context.Context, reqCtx *a2asrv.RequestContext, q eventqueue.Queue) error {
	var text []string
	if reqCtx.Message != nil {
		for _, p := range reqCtx.Message.Parts {
			if tp, ok := p.(a2a.TextPart); ok {
				text = append(text, tp.Text)
			}
		}
	}
	// A plain message (no task): message/send returns it as the result.
	reply := a2a.NewMessage(a2a.MessageRoleAgent, a2a.TextPart{Text: "echo: " + strings.Join(text, "")})
	reply.ContextID = reqCtx.ContextID
	reply.Metadata = map[string]any{"count": e.count.Add(1), "pid": os.Getpid(), "instance": instance}
	return q.Write(ctx, reply)
}

// instance names this process among all sandboxes: pids repeat across PID namespaces.
var instance = rand.Text()

// Cancel has nothing to stop: replies are immediate.
func (e *echoExecutor) Cancel(ctx context.Context, reqCtx *a2asrv.RequestContext, q eventqueue.Queue) error {
	return q.Write(ctx, a2a.NewStatusUpdateEvent(reqCtx, a2a.TaskStateCanceled, nil))
}
