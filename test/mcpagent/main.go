// Command mcpagent is Berth's MCP test agent: an MCP server built with the official MCP Go
// SDK (github.com/modelcontextprotocol/go-sdk) that follows AgentCore's MCP container
// contract (AGENTCORE-WIRE.md §4.5). It serves streamable HTTP at /mcp on 0.0.0.0:$PORT
// (default 8000) in stateless mode — the mode AWS recommends, since the platform mints
// Mcp-Session-Id values the server did not create — and GET /ping → {"status":"Healthy"}.
//
// Tools:
//
//	increment  add one to a process-wide counter and return it; Berth runs one sandbox per
//	           session, so process state is session state
//	whoami     return the process id and the session headers the request arrived with
//	           (Mcp-Session-Id, X-Amzn-Bedrock-AgentCore-Runtime-Session-Id,
//	           Mcp-Protocol-Version)
//
// Every response echoes the request's Mcp-Protocol-Version header (the SDK's server does not
// set it), so tests can see that header pass back through Berth.
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Count is the result of increment.
type Count struct {
	Count int64 `json:"count"`
}

// Identity is the result of whoami.
type Identity struct {
	PID              int    `json:"pid"`
	Instance         string `json:"instance"` // random per process: pids repeat across PID namespaces
	McpSessionID     string `json:"mcpSessionId"`
	RuntimeSessionID string `json:"runtimeSessionId"`
	ProtocolVersion  string `json:"protocolVersion"`
}

var counter atomic.Int64

// instance names this process among all sandboxes.
var instance = rand.Text()

func increment(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, Count, error) {
	return nil, Count{Count: counter.Add(1)}, nil
}

func whoami(_ context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, Identity, error) {
	id := Identity{PID: os.Getpid(), Instance: instance}
	if req.Extra != nil && req.Extra.Header != nil {
		h := req.Extra.Header
		id.McpSessionID = h.Get("Mcp-Session-Id")
		id.RuntimeSessionID = h.Get("X-Amzn-Bedrock-AgentCore-Runtime-Session-Id")
		id.ProtocolVersion = h.Get("Mcp-Protocol-Version")
	}
	return nil, id, nil
}

// newServer returns the MCP server with its tools.
func newServer() *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "berth-mcpagent", Version: "1.0.0"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "increment", Description: "Increment the session's counter and return it."}, increment)
	mcp.AddTool(s, &mcp.Tool{Name: "whoami", Description: "Return this server's process id and the request's session headers."}, whoami)
	return s
}

// echoProtocolVersion copies the request's Mcp-Protocol-Version onto the response.
func echoProtocolVersion(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.Header.Get("Mcp-Protocol-Version"); v != "" {
			w.Header().Set("Mcp-Protocol-Version", v)
		}
		next.ServeHTTP(w, r)
	})
}

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	port := os.Getenv("PORT")
	if port == "" {
		port = "8000"
	}
	server := newServer()
	mux := http.NewServeMux()
	mux.Handle("/mcp", echoProtocolVersion(mcp.NewStreamableHTTPHandler(
		func(*http.Request) *mcp.Server { return server },
		&mcp.StreamableHTTPOptions{Stateless: true, Logger: logger},
	)))
	mux.HandleFunc("GET /ping", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"status": "Healthy"})
	})
	logger.Info("mcpagent listening", "addr", "0.0.0.0:"+port, "pid", os.Getpid())
	srv := &http.Server{Addr: "0.0.0.0:" + port, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Error("serve", "err", err)
		os.Exit(1)
	}
}
