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
	"sync"
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

	logMu   sync.Mutex // serialises writes to logf and guards watches
	watches map[*LogWatch]struct{}
	logDone chan struct{} // closed when both output pipes reached EOF
}

// Options configure Start.
type Options struct {
	// Driver is the sandbox driver (default "process").
	Driver string
	// Dir is a scratch directory for the data dir (Dir/data) and the server log (required).
	// Keep it short for the microvm driver, whose unix sockets live in the data dir
	// (<data>/sandboxes/<uuid>/berth.ctl.sock must stay within 107 bytes).
	Dir string
	// MaxSessions caps live sessions on the server (default 2000).
	MaxSessions int
	// Logger is where progress goes (default: discard).
	Logger *slog.Logger
	// LogLevel is the server's --log-level (default "warn"). Watch sees only what the
	// server logs: "info" for "session started" lines, "debug" for pooled sandboxes.
	LogLevel string
	// StartTimeout bounds the wait for the server's "listening on" line (default 30 s).
	StartTimeout time.Duration
	// Links are symbolic links made in the fresh data directory before the server starts:
	// data-dir-relative path → target (e.g. a microVM guest kernel built once per host).
	Links map[string]string
	// ExtraArgs are appended to `berth server` (e.g. "--pool-size", "0").
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
	if opts.LogLevel == "" {
		opts.LogLevel = "warn"
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 30 * time.Second
	}
	if opts.Dir == "" {
		return nil, errors.New("start berth: no scratch directory given")
	}
	dataDir := filepath.Join(opts.Dir, "data")
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("start berth: %w", err)
	}
	for rel, target := range opts.Links {
		link := filepath.Join(dataDir, rel)
		if err := os.MkdirAll(filepath.Dir(link), 0o750); err != nil {
			return nil, fmt.Errorf("start berth: %w", err)
		}
		if err := os.Symlink(target, link); err != nil {
			return nil, fmt.Errorf("start berth: %w", err)
		}
	}
	logf, err := os.Create(filepath.Join(opts.Dir, "server-"+opts.Driver+".log"))
	if err != nil {
		return nil, fmt.Errorf("start berth: %w", err)
	}
	args := []string{"server", "--data-dir", dataDir, "--listen", "127.0.0.1:0",
		"--sandbox", opts.Driver, "--insecure-registries", "127.0.0.1",
		"--max-sessions", strconv.Itoa(opts.MaxSessions), "--log-level", opts.LogLevel,
		"--log-format", "text"} // the log watcher reads slog's text lines
	args = append(args, opts.ExtraArgs...)
	cmd := exec.Command(bins.Berth, args...) //nolint:gosec // the harness runs the binary it built
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	// Plain pipes rather than StdoutPipe: cmd.Wait must not close them before the last
	// lines (a start-up error) are read.
	outR, outW, err := os.Pipe()
	if err != nil {
		_ = logf.Close()
		return nil, fmt.Errorf("start berth: %w", err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		_ = logf.Close()
		_, _ = outR.Close(), outW.Close()
		return nil, fmt.Errorf("start berth: %w", err)
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	err = cmd.Start()
	_, _ = outW.Close(), errW.Close()
	if err != nil {
		_ = logf.Close()
		_, _ = outR.Close(), errR.Close()
		return nil, fmt.Errorf("start berth: %w", err)
	}
	e := &Env{Driver: opts.Driver, DataDir: dataDir, Bins: bins, Logger: opts.Logger,
		ServerPID: cmd.Process.Pid, cmd: cmd, exited: make(chan struct{}), logDone: make(chan struct{}),
		logf: logf, watches: map[*LogWatch]struct{}{}}
	go func() { _ = cmd.Wait(); close(e.exited) }()

	addrc := make(chan string, 1)
	var readers sync.WaitGroup
	readers.Go(func() {
		sent := false
		e.readLog(outR, func(line string) {
			if _, u, ok := strings.Cut(line, "listening on "); ok && !sent {
				addrc <- strings.TrimSpace(u)
				sent = true
			}
		})
	})
	readers.Go(func() { e.readLog(errR, nil) })
	go func() { readers.Wait(); close(e.logDone) }()
	select {
	case u := <-addrc:
		e.BaseURL = u
		e.Addr = strings.TrimPrefix(u, "http://")
	case <-e.exited:
		e.closeLog()
		return nil, fmt.Errorf("start berth: server exited before listening: %s", logTail(logf.Name()))
	case <-time.After(opts.StartTimeout):
		_ = e.Close()
		return nil, fmt.Errorf("start berth: no \"listening on\" line within %s; see %s", opts.StartTimeout, logf.Name())
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
	defer e.closeLog()
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

// readLog copies the server's output r, line by line, to the log file and to the watches
// (and to also, when given). It never stops reading before EOF, so the server never blocks
// on its log.
func (e *Env) readLog(r io.Reader, also func(string)) {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			text := strings.TrimRight(line, "\n")
			if also != nil {
				also(text)
			}
			parsed := ParseLogLine(text)
			e.logMu.Lock()
			_, _ = fmt.Fprintln(e.logf, text)
			for w := range e.watches {
				w.add(parsed)
			}
			e.logMu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

// closeLog waits briefly for the server's last output (processes it started may hold the
// pipes open longer) and closes the log file.
func (e *Env) closeLog() {
	select {
	case <-e.logDone:
	case <-time.After(2 * time.Second):
	}
	e.logMu.Lock()
	_ = e.logf.Close()
	e.logMu.Unlock()
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
