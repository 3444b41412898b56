package sandboxtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/test/testagent"
)

// harness runs one subtest's sandboxes.
type harness struct {
	t    *testing.T
	d    sandbox.Driver
	opts Options
	// agentBin is the test agent Options.Spec is given; "" means testagent.Binary.
	agentBin string
}

// newHarness starts a subtest: it fails the test if goroutines started during it outlive
// its cleanups, which stop every sandbox it started.
func newHarness(t *testing.T, d sandbox.Driver, opts Options) *harness {
	t.Helper()
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) }) // registered first, so it runs last
	return &harness{t: t, d: d, opts: opts}
}

// started is a sandbox under test with its spec and captured output.
type started struct {
	sandbox.Sandbox
	spec           sandbox.Spec
	stdout, stderr *SyncBuffer
}

// start starts a sandbox running the test agent with extra environment entries, and stops
// it at cleanup.
func (h *harness) start(env ...string) *started {
	h.t.Helper()
	spec := h.spec()
	spec.Env = append(slices.Clone(spec.Env), env...)
	return h.startSpec(spec)
}

// spec returns a Spec from Options.Spec with a fresh ID.
func (h *harness) spec() sandbox.Spec {
	h.t.Helper()
	bin := h.agentBin
	if bin == "" {
		bin = testagent.Binary(h.t)
	}
	spec := h.opts.Spec(h.t, bin)
	spec.ID = newID()
	return spec
}

// startSpec starts a sandbox of spec, capturing its output, and stops it at cleanup.
func (h *harness) startSpec(spec sandbox.Spec) *started {
	h.t.Helper()
	s := &started{spec: spec, stdout: &SyncBuffer{}, stderr: &SyncBuffer{}}
	spec.Stdout, spec.Stderr = s.stdout, s.stderr
	sb, err := h.d.Start(h.t.Context(), spec)
	if err != nil {
		h.t.Fatalf("Start: %v", err)
	}
	if sb.ID() != spec.ID {
		h.t.Errorf("ID() = %q, want %q", sb.ID(), spec.ID)
	}
	s.Sandbox = sb
	h.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := sb.Stop(ctx); err != nil {
			h.t.Errorf("Stop at cleanup: %v", err)
		}
	})
	return s
}

// ready waits until the agent's /ping answers 200.
func (h *harness) ready(s *started) {
	h.t.Helper()
	timeout := h.opts.StartTimeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(h.t.Context(), timeout)
	defer cancel()
	c := client(s)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://sandbox/ping", nil)
		if err != nil {
			h.t.Fatal(err)
		}
		resp, err := c.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-s.Done():
			h.t.Fatalf("agent exited before /ping answered: %v; stderr:\n%s", s.ExitErr(), s.stderr)
		case <-ctx.Done():
			h.t.Fatalf("/ping did not answer 200 within %v: last error %v", timeout, err)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// invoke POSTs a JSON op to /invocations and decodes the JSON answer into out.
func (h *harness) invoke(s *started, op map[string]any, out any) {
	h.t.Helper()
	resp, err := post(h.t.Context(), s, op)
	if err != nil {
		h.t.Fatalf("invoke %v: %v", op, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatalf("invoke %v: read answer: %v", op, err)
	}
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("invoke %v: status %d: %s", op, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		h.t.Fatalf("invoke %v: decode %s: %v", op, body, err)
	}
}

func post(ctx context.Context, s sandbox.Sandbox, op map[string]any) (*http.Response, error) {
	b, err := json.Marshal(op)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://sandbox/invocations", bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return client(s).Do(req)
}

// client talks HTTP to the agent port of sb; it keeps no idle connections (and so no
// goroutines) around.
func client(sb sandbox.Sandbox) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return sb.DialContext(ctx, "tcp", AgentPort)
		},
		DisableKeepAlives: true,
	}}
}

// waitDone waits until the sandbox's main process has exited.
func (h *harness) waitDone(s sandbox.Sandbox, why string) {
	h.t.Helper()
	select {
	case <-s.Done():
	case <-time.After(30 * time.Second):
		h.t.Fatalf("Done not closed 30 s after %s", why)
	}
}

func (h *harness) stop(s sandbox.Sandbox) {
	h.t.Helper()
	if err := s.Stop(h.t.Context()); err != nil {
		h.t.Fatalf("Stop: %v", err)
	}
}

// stateDir lists every path under Options.StateDir, or nil if the check is off.
func (h *harness) stateDir() []string {
	h.t.Helper()
	if h.opts.StateDir == "" {
		return nil
	}
	var paths []string
	err := filepath.WalkDir(h.opts.StateDir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		paths = append(paths, p)
		return nil
	})
	if err != nil {
		h.t.Fatalf("list state directory: %v", err)
	}
	return paths
}

// checkStateDir fails if the state directory differs from before.
func (h *harness) checkStateDir(before []string, after string) {
	h.t.Helper()
	if diff := cmp.Diff(before, h.stateDir()); diff != "" {
		h.t.Errorf("state directory after %s differs from before Start (-before +after):\n%s", after, diff)
	}
}

// exitCode extracts the exit status from an ExitErr: every driver's error must have an
// ExitCode() int method, as *exec.ExitError does.
func exitCode(err error) (int, bool) {
	var ec interface{ ExitCode() int }
	if errors.As(err, &ec) {
		return ec.ExitCode(), true
	}
	return 0, false
}

func newID() string {
	return "sbxtest-" + strings.ToLower(rand.Text()[:12])
}

// SyncBuffer is an io.Writer safe for the concurrent writes of a sandbox's output (stdout and
// stderr may share one).
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// proc is a host process the suite expects to die.
type proc struct {
	pid       int
	startTime string // /proc/<pid>/stat field 22, to tell a recycled pid apart
}

// hostProc records a live host process.
func (h *harness) hostProc(pid int) proc {
	h.t.Helper()
	state, start, err := readProc(pid)
	if err != nil || state == "Z" {
		h.t.Fatalf("process %d is not alive: state %q, %v", pid, state, err)
	}
	return proc{pid, start}
}

// checkGone fails if p is still alive. A zombie counts as gone: it holds nothing but its
// pid until whoever is its parent (init, for orphans) reaps it.
func (h *harness) checkGone(p proc, what string) {
	h.t.Helper()
	state, start, err := readProc(p.pid)
	switch {
	case errors.Is(err, fs.ErrNotExist), err == nil && (start != p.startTime || state == "Z" || state == "X"):
	case err != nil:
		h.t.Errorf("check %s (pid %d): %v", what, p.pid, err)
	default:
		h.t.Errorf("%s (pid %d) is still alive, state %s", what, p.pid, state)
	}
}

// readProc returns the state (field 3) and start time (field 22) of pid.
func readProc(pid int) (state, start string, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || strings.Contains(err.Error(), "no such process") {
			return "", "", fs.ErrNotExist
		}
		return "", "", err
	}
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:])) // f[0] is field 3
	if i < 0 || len(f) < 20 {
		return "", "", fmt.Errorf("parse /proc/%d/stat: %q", pid, b)
	}
	return f[0], f[19], nil
}
