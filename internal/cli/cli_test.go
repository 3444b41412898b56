package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"berth.dev/berth/internal/auth/oidctest"
	"berth.dev/berth/internal/cli"
	"berth.dev/berth/internal/config"
	"berth.dev/berth/internal/sandbox/netns"
	_ "berth.dev/berth/internal/sandbox/process" // the driver the scripts' servers use
	"berth.dev/berth/internal/server"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"berth": func() { os.Exit(cli.Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs testdata/*.txtar: each script gets its own in-process Berth server on
// the process sandbox driver, with BERTH_ENDPOINT and BERTH_CREDENTIALS pointing at it, and
// OIDC_DISCOVERY_URL naming a test OpenID issuer whose tokens 'jwt VAR CLIENT_ID' mints.
func TestScripts(t *testing.T) {
	if err := netns.Available(); err != nil {
		t.Skipf("the process sandbox driver needs network namespaces (run as root): %v", err)
	}
	iss := oidctest.Start(t)
	testscript.Run(t, testscript.Params{
		Dir: "testdata",
		Setup: func(env *testscript.Env) error {
			env.Setenv("OIDC_DISCOVERY_URL", iss.DiscoveryURL)
			return startServer(env)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"jwt": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 2 || neg {
					ts.Fatalf("usage: jwt VAR CLIENT_ID")
				}
				ts.Setenv(args[0], iss.Token(t, oidctest.Claims{Subject: "cli-test", ClientID: args[1]}))
			},
			"jsonvalid": cmdJSONValid,
			"linecount": cmdLineCount,
			"sessionid": cmdSessionID,
			"freeport":  cmdFreePort,
			"httpwait":  cmdHTTPWait,
			"mkimage":   cmdMkImage,
			"mkzip":     cmdMkZip,
			"stdoutvar": cmdStdoutVar,
		},
	})
}

var serverSeq atomic.Int64

// startServer runs a Berth server for one script until the script ends.
func startServer(env *testscript.Env) error {
	dataDir, err := os.MkdirTemp("", "berth-cli-")
	if err != nil {
		return err
	}
	cfg := config.Default()
	cfg.DataDir = dataDir
	cfg.Listen = "127.0.0.1:0"
	cfg.Sandbox.Driver = "process"
	n := serverSeq.Add(1)
	cfg.Sandbox.Egress.Tag = fmt.Sprintf("c%d", n%1000)
	cfg.Sandbox.Egress.Subnet = fmt.Sprintf("10.233.%d.0/24", n%256)
	cfg.Sandbox.Egress.PoolSize = -1
	cfg.Sessions.InitTimeout = 20 * time.Second
	cfg.Sessions.PingInterval = 200 * time.Millisecond
	if err := cfg.Validate(); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(logWriter{env.T()}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, cfg, logger)
	if err != nil {
		cancel()
		return fmt.Errorf("start server: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	env.Defer(func() {
		cancel()
		if err := <-done; err != nil {
			env.T().Fatal("server shutdown:", err)
		}
		_ = os.RemoveAll(dataDir)
	})
	env.Setenv("BERTH_ENDPOINT", "http://"+srv.Addr())
	env.Setenv("BERTH_CREDENTIALS", filepath.Join(dataDir, "credentials"))
	env.Setenv("BERTH_DATA_DIR", dataDir)
	// A local server a script started ('berth deploy --local') must not outlive it.
	env.Defer(func() { stopLocalServers(env.T(), env.WorkDir) })
	return toolEnv(env)
}

// logWriter sends server logs to the script's log.
type logWriter struct{ t testscript.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// cmdJSONValid: jsonvalid — the last command's stdout is one valid JSON document.
func cmdJSONValid(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 0 {
		ts.Fatalf("usage: jsonvalid")
	}
	out := ts.ReadFile("stdout")
	valid := json.Valid([]byte(out))
	if valid == neg {
		ts.Fatalf("jsonvalid: valid=%v for stdout:\n%s", valid, out)
	}
}

// cmdLineCount: linecount stdout|stderr N — the last command's output has exactly N lines.
func cmdLineCount(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 || neg {
		ts.Fatalf("usage: linecount stdout|stderr N")
	}
	want, err := strconv.Atoi(args[1])
	ts.Check(err)
	got := strings.Count(ts.ReadFile(args[0]), "\n")
	if got != want {
		ts.Fatalf("%s has %d lines, want %d:\n%s", args[0], got, want, ts.ReadFile(args[0]))
	}
}

// cmdSessionID: sessionid VAR — sets VAR to the one session id remembered in
// .berth/state.json (failing unless there is exactly one).
func cmdSessionID(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 || neg {
		ts.Fatalf("usage: sessionid VAR")
	}
	var st struct {
		Sessions map[string]string `json:"sessions"`
	}
	ts.Check(json.Unmarshal([]byte(ts.ReadFile(".berth/state.json")), &st))
	if len(st.Sessions) != 1 {
		ts.Fatalf("state holds %d sessions, want 1: %v", len(st.Sessions), st.Sessions)
	}
	for _, sid := range st.Sessions {
		ts.Setenv(args[0], sid)
	}
}
