package harness

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"berth.dev/berth/internal/auth"
)

// Env is a running berth server under benchmark and what a scenario needs to reach it.
type Env struct {
	// BaseURL is the server's root URL, "http://127.0.0.1:PORT".
	BaseURL string
	// Addr is the server's host:port (also the registry host in image references).
	Addr string
	// Creds are the admin credentials the server wrote to its data dir.
	Creds aws.Credentials
	// Client SigV4-signs every request with Creds (service bedrock-agentcore; see Sign for
	// how the body is hashed) and keeps up to 256 idle connections to the server. Use it for
	// any request; Invoke and Timed sign before starting their clock instead.
	Client *http.Client
	// Raw is the unsigned client behind Client (same transport): pair it with Sign to keep
	// signing out of a timed section.
	Raw *http.Client
	// ServerPID is the pid of the berth server process (for RSS: ProcMemory(ServerPID)).
	ServerPID int
	// Driver is the sandbox driver the server runs ("process", …).
	Driver string
	// DataDir is the server's data directory.
	DataDir string
	// Bins are the binaries the server and the agents run.
	Bins *Binaries
	// Logger receives the harness's own progress and warnings.
	Logger *slog.Logger

	cmd    *exec.Cmd
	exited chan struct{}
	logf   *os.File
}

// Options configure Start.
type Options struct {
	// Driver is the sandbox driver (default "process").
	Driver string
	// Dir is a scratch directory for the data dir and the server log (required).
	Dir string
	// MaxSessions caps live sessions on the server (default 2000).
	MaxSessions int
	// Logger is where progress goes (default: discard).
	Logger *slog.Logger
	// ExtraArgs are appended to `berth server` (e.g. "--log-level", "debug").
	ExtraArgs []string
}

// Start runs `berth server` from bins over a fresh data dir in opts.Dir on a loopback port,
// waits for its "listening on" line and reads its credentials. Close stops it.
func Start(ctx context.Context, bins *Binaries, opts Options) (*Env, error) {
	if opts.Driver == "" {
		opts.Driver = "process"
	}
	if opts.MaxSessions == 0 {
		opts.MaxSessions = 2000
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Dir == "" {
		return nil, errors.New("start berth: no scratch directory given")
	}
	dataDir := filepath.Join(opts.Dir, "data-"+opts.Driver)
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("start berth: %w", err)
	}
	logf, err := os.Create(filepath.Join(opts.Dir, "server-"+opts.Driver+".log"))
	if err != nil {
		return nil, fmt.Errorf("start berth: %w", err)
	}
	args := []string{"server", "--data-dir", dataDir, "--listen", "127.0.0.1:0",
		"--sandbox", opts.Driver, "--insecure-registries", "127.0.0.1",
		"--max-sessions", strconv.Itoa(opts.MaxSessions), "--log-level", "warn"}
	args = append(args, opts.ExtraArgs...)
	cmd := exec.Command(bins.Berth, args...) //nolint:gosec // the harness runs the binary it built
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		_ = logf.Close()
		return nil, fmt.Errorf("start berth: %w", err)
	}
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		return nil, fmt.Errorf("start berth: %w", err)
	}
	e := &Env{Driver: opts.Driver, DataDir: dataDir, Bins: bins, Logger: opts.Logger,
		ServerPID: cmd.Process.Pid, cmd: cmd, exited: make(chan struct{}), logf: logf}
	go func() { _ = cmd.Wait(); close(e.exited) }()

	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			_, _ = fmt.Fprintln(logf, line)
			if _, u, ok := strings.Cut(line, "listening on "); ok && !sent {
				addrc <- strings.TrimSpace(u)
				sent = true
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case u := <-addrc:
		e.BaseURL = u
		e.Addr = strings.TrimPrefix(u, "http://")
	case <-e.exited:
		_ = logf.Close()
		return nil, fmt.Errorf("start berth: server exited before listening: %s", logTail(logf.Name()))
	case <-time.After(30 * time.Second):
		_ = e.Close()
		return nil, fmt.Errorf("start berth: no \"listening on\" line within 30s; see %s", logf.Name())
	case <-ctx.Done():
		_ = e.Close()
		return nil, fmt.Errorf("start berth: %w", ctx.Err())
	}
	creds, err := ReadCredentials(filepath.Join(dataDir, "credentials"))
	if err != nil {
		_ = e.Close()
		return nil, fmt.Errorf("start berth: %w", err)
	}
	e.Creds = creds
	tr := &http.Transport{
		MaxIdleConns:        512,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	e.Raw = &http.Client{Transport: tr}
	e.Client = &http.Client{Transport: &signingTransport{creds: creds, base: tr}}
	return e, nil
}

// Close stops the server (SIGTERM, then SIGKILL after 20 s) and waits for it; the sessions'
// agents end with it.
func (e *Env) Close() error {
	if e.cmd == nil || e.cmd.Process == nil {
		return nil
	}
	defer func() { _ = e.logf.Close() }()
	if e.Raw != nil {
		e.Raw.CloseIdleConnections()
	}
	_ = e.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.exited:
		return nil
	case <-time.After(20 * time.Second):
		_ = e.cmd.Process.Kill()
		<-e.exited
		return errors.New("stop berth: server did not stop within 20s of SIGTERM; killed")
	}
}

// ServerLog is the path of the file holding the server's stdout and stderr.
func (e *Env) ServerLog() string { return e.logf.Name() }

// ReadCredentials parses the AWS shared-credentials file berth writes to its data dir.
func ReadCredentials(path string) (aws.Credentials, error) {
	id, secretKey, err := auth.ReadCredentialsFile(path, "default")
	if err != nil {
		return aws.Credentials{}, err
	}
	return aws.Credentials{AccessKeyID: id, SecretAccessKey: secretKey}, nil
}

// logTail returns the last line of the file at path (the reason a server gave up).
func logTail(path string) string {
	raw, err := os.ReadFile(path) //nolint:gosec // the harness's own log
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	return lines[len(lines)-1]
}
