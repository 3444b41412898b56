// Package testserver runs an in-process berth server on a loopback port for tests: the
// harness shared by internal/server's tests and the e2e suite. Config is the starting
// configuration (config.Default on a fresh data dir, an ephemeral port, the loopback registry
// allowed over plain HTTP, short session timeouts); the caller picks the sandbox driver,
// imports it, adjusts the config and skips where the driver cannot run. Start serves until
// the test ends and reads the credentials the server wrote. Clients are the real AWS SDK
// ones with retries off, so a test sees every response as the server sent it.
package testserver

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"

	"berth.dev/berth/internal/config"
	"berth.dev/berth/internal/server"
)

// Region is the region the test clients sign for.
const Region = "us-east-1"

// Server is a running berth server. Stop ends it; Start's cleanup does so too.
type Server struct {
	URL     string // http://Addr
	Addr    string // host:port
	DataDir string
	Creds   aws.Credentials // the admin key from DataDir/credentials
	cancel  context.CancelFunc
	done    chan error
}

// serverSeq numbers the configurations Config made in this process.
var serverSeq atomic.Int64

// Config returns the configuration a test server starts from: serving dataDir on an
// ephemeral loopback port with the named sandbox driver (the caller imports it). Each gets
// its own egress tag and /24 (the servers of a test process may run side by side, and a
// server refuses a tag another one holds) and sets up PUBLIC networks on demand.
func Config(dataDir, driver string) config.Config {
	cfg := config.Default()
	n := serverSeq.Add(1)
	cfg.Sandbox.Egress.Tag = fmt.Sprintf("t%d", n%1000)
	cfg.Sandbox.Egress.Subnet = fmt.Sprintf("10.235.%d.0/24", n%256)
	cfg.Sandbox.Egress.PoolSize = -1
	cfg.DataDir = dataDir
	cfg.Listen = "127.0.0.1:0"
	cfg.Artifacts.InsecureRegistries = []string{"127.0.0.1"}
	cfg.Sandbox.Driver = driver
	cfg.Sessions.InitTimeout = 20 * time.Second
	cfg.Sessions.PingInterval = 200 * time.Millisecond
	return cfg
}

// Start validates cfg and runs a server with it until the test ends, logging warnings and
// errors to the test log.
func Start(t testing.TB, cfg config.Config) *Server {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(LogWriter(t), &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, cfg, logger)
	if err != nil {
		cancel()
		t.Fatalf("start server: %v", err)
	}
	s := &Server{Addr: srv.Addr(), URL: "http://" + srv.Addr(), DataDir: cfg.DataDir, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- srv.Run(ctx) }()
	s.Creds = ReadCredentials(t, filepath.Join(cfg.DataDir, "credentials"))
	t.Cleanup(s.Stop)
	return s
}

// Stop shuts the server down gracefully and panics on a shutdown error (it runs in
// cleanups, where there is no test to fail). It is idempotent, and a no-op on a Server
// that Start did not run (one that only names a server running elsewhere).
func (s *Server) Stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.cancel = nil
	if err := <-s.done; err != nil {
		panic(fmt.Sprintf("server shutdown: %v", err))
	}
}

// ReadCredentials reads the AWS shared-credentials file a server wrote the way every AWS
// SDK does with AWS_SHARED_CREDENTIALS_FILE, and checks that only its owner may read it.
func ReadCredentials(t testing.TB, path string) aws.Credentials {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatalf("credentials file: %v", err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("credentials file mode = %v, want 0600", st.Mode().Perm())
	}
	cfg, err := awsconfig.LoadDefaultConfig(context.Background(),
		awsconfig.WithSharedCredentialsFiles([]string{path}), awsconfig.WithSharedConfigProfile("default"),
		awsconfig.WithSharedConfigFiles([]string{}), awsconfig.WithRegion(Region))
	if err != nil {
		t.Fatalf("load credentials file: %v", err)
	}
	c, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || c.AccessKeyID == "" || c.SecretAccessKey == "" {
		t.Fatalf("credentials file %s: %v (%q)", path, err, c.AccessKeyID)
	}
	return aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey}
}

// Control returns a control-plane client signing with the server's credentials.
func (s *Server) Control() *bedrockagentcorecontrol.Client { return s.ControlWith(s.Creds) }

// ControlWith returns a control-plane client signing with c.
func (s *Server) ControlWith(c aws.Credentials) *bedrockagentcorecontrol.Client {
	return bedrockagentcorecontrol.New(bedrockagentcorecontrol.Options{
		BaseEndpoint:     aws.String(s.URL),
		Region:           Region,
		Credentials:      credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, ""),
		RetryMaxAttempts: 1,
	})
}

// Data returns a data-plane client signing with the server's credentials; optFns adjust
// its options (an HTTP client, say).
func (s *Server) Data(optFns ...func(*bedrockagentcore.Options)) *bedrockagentcore.Client {
	return bedrockagentcore.New(bedrockagentcore.Options{
		BaseEndpoint:     aws.String(s.URL),
		Region:           Region,
		Credentials:      credentials.NewStaticCredentialsProvider(s.Creds.AccessKeyID, s.Creds.SecretAccessKey, ""),
		RetryMaxAttempts: 1,
	}, optFns...)
}

// LogWriter returns a writer that sends each write, a log line, to the test log.
func LogWriter(t testing.TB) io.Writer { return logWriter{t} }

type logWriter struct{ t testing.TB }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
