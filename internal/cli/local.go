package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"berth.dev/berth/internal/atomicfile"
)

// The project's local server: 'berth deploy --local' starts a Berth server in the background
// for the project, with its data under .berth/server, its output in .berth/server.log and
// what the CLI needs to reach it in .berth/local.json. It stays up after the command; later
// commands reach it with --local; 'berth local stop' stops it.
const (
	localStateFile = ".berth/local.json"
	localDataDir   = ".berth/server"
	localLogFile   = ".berth/server.log"
)

// localServer is the content of .berth/local.json.
type localServer struct {
	PID         int    `json:"pid"`
	Endpoint    string `json:"endpoint"`
	Credentials string `json:"credentials"`
	Region      string `json:"region"`
	DataDir     string `json:"dataDir"`
	Log         string `json:"log"`
	StartedAt   string `json:"startedAt"`
}

// errNoLocal is the error of commands given --local when no local server runs.
var errNoLocal = hintError{errors.New("no local Berth server is running for this project"), "'berth deploy --local' or 'berth local start' starts one"}

// readLocal reads .berth/local.json; ok is false when there is none.
func readLocal() (localServer, bool, error) {
	var ls localServer
	raw, err := os.ReadFile(localStateFile)
	if errors.Is(err, fs.ErrNotExist) {
		return ls, false, nil
	}
	if err != nil {
		return ls, false, fmt.Errorf("read %s: %w", localStateFile, err)
	}
	if err := json.Unmarshal(raw, &ls); err != nil {
		return ls, false, hintError{fmt.Errorf("read %s: %w", localStateFile, err), "stop the server by hand if one runs, and delete the file"}
	}
	return ls, true, nil
}

// isOurs reports whether ls.PID is still the server it recorded: a live process whose
// command line names the recorded data directory (a reused pid names something else).
func (ls localServer) isOurs() bool {
	if ls.PID <= 0 || !alive(ls.PID) {
		return false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", ls.PID))
	if err != nil {
		return !errors.Is(err, fs.ErrNotExist) // no /proc: trust the signal
	}
	return strings.Contains(string(cmdline), ls.DataDir)
}

// healthy reports whether the server answers /berth/v1/health.
func (ls localServer) healthy(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ls.Endpoint+"/berth/v1/health", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// runningLocal returns the project's running local server, or errNoLocal.
func runningLocal() (localServer, error) {
	ls, ok, err := readLocal()
	if err != nil {
		return ls, err
	}
	if !ok || !ls.isOurs() {
		return ls, errNoLocal
	}
	return ls, nil
}

// listeningLine is what 'berth server' prints once it listens.
var listeningLine = regexp.MustCompile(`listening on (https?://\S+)`)

// startLocal returns the project's local server, starting it when none runs: this same
// binary's 'berth server' with the data directory .berth/server, listening on a free port
// of 127.0.0.1, in a session of its own, output appended to .berth/server.log. The sandbox
// driver is the server's usual choice (BERTH_SANDBOX and the other BERTH_* variables of
// the environment apply, as for 'berth server').
func startLocal(ctx context.Context, region string, prog *progress) (localServer, bool, error) {
	if ls, err := runningLocal(); err == nil {
		return ls, false, nil
	} else if !errors.Is(err, errNoLocal.err) {
		return ls, false, err
	}
	dataDir, err := filepath.Abs(localDataDir)
	if err != nil {
		return localServer{}, false, err
	}
	logPath, err := filepath.Abs(localLogFile)
	if err != nil {
		return localServer{}, false, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return localServer{}, false, fmt.Errorf("local server: %w", err)
	}
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600) //nolint:gosec // the project's own log file
	if err != nil {
		return localServer{}, false, fmt.Errorf("local server: %w", err)
	}
	defer func() { _ = logf.Close() }()
	offset, _ := logf.Seek(0, io.SeekEnd)
	exe, err := os.Executable()
	if err != nil {
		return localServer{}, false, fmt.Errorf("local server: find the berth binary: %w", err)
	}
	prog.step("Starting a local Berth server (%s)", localDataDir)
	cmd := exec.Command(exe, "server", "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--region", region) //nolint:gosec // this binary
	cmd.Stdout, cmd.Stderr = logf, logf
	detach(cmd)
	if err := cmd.Start(); err != nil {
		return localServer{}, false, fmt.Errorf("local server: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	ls := localServer{PID: cmd.Process.Pid, Credentials: filepath.Join(dataDir, "credentials"), Region: region,
		DataDir: dataDir, Log: logPath, StartedAt: time.Now().UTC().Format(time.RFC3339)}
	deadline := time.NewTimer(60 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for ls.Endpoint == "" {
		select {
		case err := <-exited:
			return ls, false, hintError{fmt.Errorf("the local server exited (%w): %s", err, logTail(logPath, offset)),
				"the whole output is in " + localLogFile + "; BERTH_SANDBOX=process runs agents without isolation where no isolating driver works"}
		case <-deadline.C:
			_ = signalProcess(ls.PID, syscall.SIGKILL)
			return ls, false, hintError{errors.New("the local server did not start listening within 60s"), "see " + localLogFile}
		case <-ctx.Done():
			_ = signalProcess(ls.PID, syscall.SIGKILL)
			return ls, false, ctx.Err()
		case <-tick.C:
			if m := listeningLine.FindStringSubmatch(logTail(logPath, offset)); m != nil {
				ls.Endpoint = m[1]
			}
		}
	}
	for !ls.healthy(ctx) {
		select {
		case err := <-exited:
			return ls, false, fmt.Errorf("the local server exited (%w): %s", err, logTail(logPath, offset))
		case <-deadline.C:
			return ls, false, hintError{errors.New("the local server does not answer /berth/v1/health"), "see " + localLogFile}
		case <-tick.C:
		}
	}
	raw, err := json.MarshalIndent(ls, "", "  ")
	if err != nil {
		return ls, false, err
	}
	if err := atomicfile.WriteFile(localStateFile, append(raw, '\n'), 0o600); err != nil {
		return ls, false, fmt.Errorf("local server: %w", err)
	}
	return ls, true, nil
}

// logTail is what the log holds after offset, at most its last 4 KiB, on one line.
func logTail(path string, offset int64) string {
	raw, err := os.ReadFile(path) //nolint:gosec // the project's own log file
	if err != nil || int64(len(raw)) < offset {
		return ""
	}
	raw = raw[offset:]
	if len(raw) > 4096 {
		raw = raw[len(raw)-4096:]
	}
	return strings.Join(strings.Fields(string(raw)), " ")
}

// stopLocal stops the project's local server (SIGTERM, then SIGKILL after 30 s) and removes
// .berth/local.json. It reports whether a server was running.
func stopLocal(ctx context.Context) (localServer, bool, error) {
	ls, ok, err := readLocal()
	if err != nil || !ok {
		return ls, false, err
	}
	running := ls.isOurs()
	if running {
		if err := signalProcess(ls.PID, syscall.SIGTERM); err != nil && alive(ls.PID) {
			return ls, true, fmt.Errorf("stop local server (pid %d): %w", ls.PID, err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for alive(ls.PID) && time.Now().Before(deadline) && ctx.Err() == nil {
			time.Sleep(50 * time.Millisecond)
		}
		if alive(ls.PID) {
			_ = signalProcess(ls.PID, syscall.SIGKILL)
		}
	}
	if err := os.Remove(localStateFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return ls, running, fmt.Errorf("stop local server: %w", err)
	}
	return ls, running, nil
}
