// Command mcp-server-go is an MCP server built with the official MCP Go SDK
// (github.com/modelcontextprotocol/go-sdk), deployable to Berth (or AWS Bedrock AgentCore)
// as an MCP runtime. It follows the MCP container contract: streamable HTTP at /mcp on
// 0.0.0.0:$PORT (8000 when PORT is unset), in stateless mode — the platform mints the
// Mcp-Session-Id values, so the server must accept ids it did not create — and GET /ping.
//
// Tools:
//
//	add       {"a": 2, "b": 3}          → {"sum": 5}
//	remember  {"note": "buy milk"}      → {"count": 1}, the number of notes kept
//	recall    {}                        → {"notes": ["buy milk"]}
//
// The notes live in the server's memory. Berth runs one sandbox per session, so each MCP
// client (each Mcp-Session-Id) has its own notes.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// AddArgs are the arguments of add.
type AddArgs struct {
	A float64 `json:"a" jsonschema:"the first addend"`
	B float64 `json:"b" jsonschema:"the second addend"`
}

// Sum is the result of add.
type Sum struct {
	Sum float64 `json:"sum"`
}

// RememberArgs are the arguments of remember.
type RememberArgs struct {
	Note string `json:"note" jsonschema:"the note to keep"`
}

// Count is the result of remember.
type Count struct {
	Count int `json:"count"`
}

// Notes is the result of recall.
type Notes struct {
	Notes []string `json:"notes"`
}

// notebook holds the notes of this process, that is, of this session.
type notebook struct {
	mu    sync.Mutex
	notes []string
}

func (n *notebook) remember(_ context.Context, _ *mcp.CallToolRequest, in RememberArgs) (*mcp.CallToolResult, Count, error) {
	note := strings.TrimSpace(in.Note)
	if note == "" {
		return nil, Count{}, errors.New("note is empty")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.notes = append(n.notes, note)
	return nil, Count{Count: len(n.notes)}, nil
}

func (n *notebook) recall(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, Notes, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return nil, Notes{Notes: append([]string{}, n.notes...)}, nil
}

func add(_ context.Context, _ *mcp.CallToolRequest, in AddArgs) (*mcp.CallToolResult, Sum, error) {
	return nil, Sum{Sum: in.A + in.B}, nil
}

// newServer returns the MCP server with its tools.
func newServer() *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "berth-example-mcp", Version: "1.0.0"}, nil)
	nb := &notebook{}
	mcp.AddTool(s, &mcp.Tool{Name: "add", Description: "Add two numbers."}, add)
	mcp.AddTool(s, &mcp.Tool{Name: "remember", Description: "Keep a note for the rest of this session."}, nb.remember)
	mcp.AddTool(s, &mcp.Tool{Name: "recall", Description: "List the notes kept in this session."}, nb.recall)
	return s
}

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	port := os.Getenv("PORT")
	if port == "" {
		port = "8000"
	}
	server := newServer()
	mux := http.NewServeMux()
	mux.Handle("/mcp", mcp.NewStreamableHTTPHandler(
		func(*http.Request) *mcp.Server { return server },
		&mcp.StreamableHTTPOptions{Stateless: true, Logger: logger},
	))
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
	logger.Info("MCP server listening", "addr", srv.Addr, "path", "/mcp")
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Error("serve", "err", err)
		os.Exit(1)
	}
}
