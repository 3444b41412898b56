package dataplane

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/httpapi"
)

func mcpConfig() catalog.RuntimeConfig {
	return catalog.RuntimeConfig{ProtocolConfiguration: &catalog.ProtocolConfiguration{ServerProtocol: "MCP"}}
}

func TestMCPRoute_Route(t *testing.T) {
	const (
		runtimeSID = "runtime-session-0123456789-0123456789"
		generated  = "generated-0123456789-0123456789-0123"
		mcpSID     = "mcp-abc"
	)
	tests := []struct {
		name    string
		method  string
		cfg     catalog.RuntimeConfig
		headers map[string]string
		sid     string // what sessionID returned
		want    *mcpExchange
		wantErr string // "" none, else the error type on the wire
	}{
		{name: "http post", method: "POST", cfg: catalog.RuntimeConfig{}, sid: generated},
		{name: "http get", method: "GET", cfg: catalog.RuntimeConfig{}, sid: generated, wantErr: "UnknownOperationException"},
		{name: "http delete", method: "DELETE", cfg: catalog.RuntimeConfig{}, sid: generated, wantErr: "UnknownOperationException"},
		{
			name: "no ids: generated is both", method: "POST", cfg: mcpConfig(), sid: generated,
			want: &mcpExchange{key: generated, sessionID: generated, start: true},
		},
		{
			name: "mcp id keys", method: "POST", cfg: mcpConfig(), sid: generated,
			headers: map[string]string{mcpSessionHeader: mcpSID},
			want:    &mcpExchange{key: mcpSID, sessionID: mcpSID, start: true},
		},
		{
			name: "runtime id keys and is the mcp id", method: "POST", cfg: mcpConfig(), sid: runtimeSID,
			headers: map[string]string{sessionHeader: runtimeSID},
			want:    &mcpExchange{key: runtimeSID, sessionID: runtimeSID, start: true},
		},
		{
			name: "runtime id keys, mcp id passes", method: "POST", cfg: mcpConfig(), sid: runtimeSID,
			headers: map[string]string{sessionHeader: runtimeSID, mcpSessionHeader: mcpSID},
			want:    &mcpExchange{key: runtimeSID, sessionID: mcpSID, start: true},
		},
		{
			name: "get with mcp id never starts", method: "GET", cfg: mcpConfig(), sid: generated,
			headers: map[string]string{mcpSessionHeader: mcpSID},
			want:    &mcpExchange{key: mcpSID, sessionID: mcpSID},
		},
		{
			name: "delete with runtime id", method: "DELETE", cfg: mcpConfig(), sid: runtimeSID,
			headers: map[string]string{sessionHeader: runtimeSID},
			want:    &mcpExchange{key: runtimeSID, sessionID: runtimeSID},
		},
		{name: "get without ids", method: "GET", cfg: mcpConfig(), sid: generated, wantErr: "ValidationException"},
		{name: "delete without ids", method: "DELETE", cfg: mcpConfig(), sid: generated, wantErr: "ValidationException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/runtimes/x/invocations", nil)
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			got, err := mcpRoute(r, tt.cfg, tt.sid)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("mcpRoute = %+v, want %s", got, tt.wantErr)
				}
				if _, body := httpapi.Classify(err); body.Type != tt.wantErr {
					t.Fatalf("error type = %s (%v), want %s", body.Type, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(mcpExchange{})); diff != "" {
				t.Errorf("mcpRoute (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMCPExchange_Adapt(t *testing.T) {
	tests := []struct {
		name        string
		method      string
		agentID     string // Mcp-Session-Id the agent answers with
		status      int
		wantID      string
		contentType string // the request's
		wantCT      string // Content-Type sent to the agent
	}{
		{name: "ours when the agent sets none", method: "POST", status: 200, contentType: "application/json", wantID: "ours", wantCT: "application/json"},
		{name: "the agent's wins", method: "POST", agentID: "theirs", status: 200, contentType: "application/json", wantID: "theirs", wantCT: "application/json"},
		{name: "notification", method: "POST", status: 202, contentType: "application/json", wantID: "ours", wantCT: "application/json"},
		{name: "bodiless get", method: "GET", status: 405, wantID: "ours"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/runtimes/x/invocations", nil)
			header := http.Header{}
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
				header.Set("Content-Type", tt.contentType)
			} else {
				header.Set("Content-Type", "application/octet-stream") // agentHeaders' default
			}
			rec := httptest.NewRecorder()
			m := &mcpExchange{key: "key", sessionID: "ours"}
			w, relay := m.adapt(rec, r, header)
			if got := header.Get(mcpSessionHeader); got != "ours" {
				t.Errorf("agent Mcp-Session-Id = %q, want ours", got)
			}
			if got := header.Get("Content-Type"); got != tt.wantCT {
				t.Errorf("agent Content-Type = %q, want %q", got, tt.wantCT)
			}
			if tt.agentID != "" {
				w.Header().Set(mcpSessionHeader, tt.agentID)
			}
			w.WriteHeader(tt.status)
			if got := rec.Result().Header.Values(mcpSessionHeader); !cmp.Equal(got, []string{tt.wantID}) {
				t.Errorf("response Mcp-Session-Id = %q, want [%s]", got, tt.wantID)
			}
			if rec.Code != tt.status {
				t.Errorf("status = %d, want %d", rec.Code, tt.status)
			}
			for status, want := range map[int]bool{400: true, 404: true, 405: true, 500: false, 502: false, 302: false} {
				if relay(status) != want {
					t.Errorf("relay(%d) = %v, want %v", status, !want, want)
				}
			}
		})
	}
}

func TestMCPResponseWriter_Write_ImplicitOK(t *testing.T) {
	rec := httptest.NewRecorder()
	w := &mcpResponseWriter{ResponseWriter: rec, sessionID: "ours"}
	if _, err := w.Write([]byte("data: x\n\n")); err != nil {
		t.Fatal(err)
	}
	if err := http.NewResponseController(w).Flush(); err != nil {
		t.Fatalf("flush through the wrapper: %v", err)
	}
	if got := rec.Result().Header.Get(mcpSessionHeader); got != "ours" || rec.Code != 200 || !rec.Flushed {
		t.Errorf("header %q, status %d, flushed %v; want ours, 200, true", got, rec.Code, rec.Flushed)
	}
}

func TestAPI_Register_MCPRoutes(t *testing.T) {
	mux := http.NewServeMux()
	New(nil, nil, nil, slog.New(slog.DiscardHandler), Options{}).Register(mux)
	const arn = "/runtimes/arn%3Aaws%3Abedrock-agentcore%3Aus-east-1%3A000000000000%3Aruntime%2Fx-0123456789"
	tests := []struct {
		method, path, want string
	}{
		{"GET", arn + "/invocations", "GET /runtimes/{agentRuntimeArn}/invocations"},
		{"GET", arn + "/invocations/", "GET /runtimes/{agentRuntimeArn}/invocations/{$}"},
		{"DELETE", arn + "/invocations", "DELETE /runtimes/{agentRuntimeArn}/invocations"},
		{"DELETE", arn + "/invocations/", "DELETE /runtimes/{agentRuntimeArn}/invocations/{$}"},
		{"POST", arn + "/invocations", "POST /runtimes/{agentRuntimeArn}/invocations"},
		{"GET", arn + "/invocations/.well-known/agent-card.json", "GET /runtimes/{agentRuntimeArn}/invocations/.well-known/agent-card.json"},
		{"PUT", arn + "/invocations", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			_, pattern := mux.Handler(httptest.NewRequest(tt.method, tt.path, nil))
			if pattern != tt.want {
				t.Errorf("pattern = %q, want %q", pattern, tt.want)
			}
		})
	}
}

func TestUnknownOperation_Classify(t *testing.T) {
	status, body := httpapi.Classify(unknownOperation{})
	if status != http.StatusNotFound || body.Type != "UnknownOperationException" {
		t.Errorf("Classify = %d %s, want 404 UnknownOperationException", status, body.Type)
	}
}
