package sandboxtest

import (
	"context"
	"errors"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"berth.dev/berth/internal/sandbox"
)

// Run runs the conformance suite against d. Subtests run one after another; each stops
// every sandbox it started.
func Run(t *testing.T, d sandbox.Driver, opts Options) {
	if opts.Skip != "" {
		t.Skip(opts.Skip)
	}
	if opts.Spec == nil {
		t.Fatal("sandboxtest: Options.Spec is nil")
	}
	if err := d.Available(); err != nil {
		t.Fatalf("driver %s is not available (set Options.Skip to skip): %v", d.Name(), err)
	}
	for _, tc := range []struct {
		name string
		fn   func(*harness)
	}{
		{"Driver/Capabilities", testCapabilities},
		{"Start/PingAndOutput", testPingAndOutput},
		{"DialContext/SamePortInTwoSandboxes", testTwoSandboxes},
		{"DialContext/NotTheHostLoopback", testNotHostLoopback},
		{"Env/PassedExactly", testEnv},
		{"Done/AgentCrash", testCrash},
		{"Done/ExitAtStart", testExitAtStart},
		{"Stop/KillsProcessTreeAndWipes", testStopKillsTree},
		{"Stop/TwiceAndConcurrently", testStopConcurrent},
		{"Usage/CPUAndMemory", testUsage},
		{"Reclaim/LiveSandbox", testReclaimLive},
		{"Reclaim/StoppedSandbox", testReclaimStopped},
		{"Exec/OutputAndExitCode", testExecExitCode},
		{"Exec/EnvAndNetwork", testExecEnvNetwork},
		{"Exec/ContextCancelKills", testExecCancel},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(newHarness(t, d, opts)) })
	}
}

func testCapabilities(h *harness) {
	c := h.d.Capabilities()
	if h.d.Name() == "" {
		h.t.Error("Name() is empty")
	}
	if c.Isolation == "" {
		h.t.Error("Capabilities().Isolation is empty")
	}
	if !slices.Contains(c.Egress, sandbox.NetworkNone) {
		h.t.Errorf("Capabilities().Egress = %v, want it to include %s", c.Egress, sandbox.NetworkNone)
	}
	if _, ok := h.d.(sandbox.Reclaimer); ok != c.Reclaim {
		h.t.Errorf("Capabilities().Reclaim = %v, but implementing Reclaimer = %v", c.Reclaim, ok)
	}
	s := h.start()
	if _, ok := s.Sandbox.(sandbox.Execer); ok != c.Exec {
		h.t.Errorf("Capabilities().Exec = %v, but implementing Execer = %v", c.Exec, ok)
	}
}

func testPingAndOutput(h *harness) {
	before := h.stateDir()
	s := h.start()
	h.ready(s)
	if s.ExitErr() != nil {
		h.t.Errorf("ExitErr() while running = %v, want nil", s.ExitErr())
	}
	select {
	case <-s.Done():
		h.t.Fatal("Done closed while the agent runs")
	default:
	}
	if len(s.State()) == 0 {
		h.t.Error("State() is empty")
	}
	h.stop(s)
	if want := "testagent listening on 0.0.0.0:8080"; !strings.Contains(s.stdout.String(), want) {
		h.t.Errorf("stdout = %q, want it to contain %q", s.stdout, want)
	}
	h.checkStateDir(before, "Stop")
}

func testTwoSandboxes(h *harness) {
	a, b := h.start(), h.start()
	h.ready(a)
	h.ready(b)
	type incr struct {
		Count int `json:"count"`
		PID   int `json:"pid"`
	}
	var a1, a2, b1 incr
	h.invoke(a, map[string]any{"op": "incr"}, &a1)
	h.invoke(a, map[string]any{"op": "incr"}, &a2)
	h.invoke(b, map[string]any{"op": "incr"}, &b1)
	if a1.Count != 1 || a2.Count != 2 || b1.Count != 1 {
		h.t.Errorf("counters: a = %d, %d; b = %d; want 1, 2; 1 (one agent per sandbox)", a1.Count, a2.Count, b1.Count)
	}
	if h.opts.HostPIDs && a1.PID == b1.PID {
		h.t.Errorf("both sandboxes answered from pid %d", a1.PID)
	}
}

func testNotHostLoopback(h *harness) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		h.t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	s := h.start()
	h.ready(s)
	port := ln.Addr().(*net.TCPAddr).Port
	c, err := s.DialContext(h.t.Context(), "tcp", port)
	if err == nil {
		_ = c.Close()
		h.t.Fatalf("DialContext(%d) reached a listener on the host's loopback", port)
	}
}

func testEnv(h *harness) {
	s := h.start("SBXTEST_PLAIN=1", "SBXTEST_SPACES=a b  c", "SBXTEST_EQUALS=x=y=z", "SBXTEST_EMPTY=")
	h.ready(s)
	var got struct {
		Env []string `json:"env"`
	}
	h.invoke(s, map[string]any{"op": "env"}, &got)
	want := slices.Clone(s.spec.Env)
	slices.Sort(want)
	slices.Sort(got.Env)
	if diff := cmp.Diff(want, got.Env); diff != "" {
		h.t.Errorf("agent environment differs from Spec.Env (-spec +agent):\n%s", diff)
	}
}

func testCrash(h *harness) {
	s := h.start()
	h.ready(s)
	if resp, err := post(h.t.Context(), s, map[string]any{"op": "crash"}); err == nil {
		_ = resp.Body.Close()
		h.t.Errorf("crash op answered %d", resp.StatusCode)
	}
	h.waitDone(s, "the crash op")
	if code, ok := exitCode(s.ExitErr()); !ok || code != 3 {
		h.t.Errorf("ExitErr() = %v, want exit status 3 (an error with ExitCode() 3)", s.ExitErr())
	}
	h.stop(s)
	if code, _ := exitCode(s.ExitErr()); code != 3 {
		h.t.Errorf("ExitErr() after Stop = %v, want it unchanged", s.ExitErr())
	}
}

func testExitAtStart(h *harness) {
	before := h.stateDir()
	s := h.start("TESTAGENT_START=exit")
	h.waitDone(s, "an exit at start")
	if code, ok := exitCode(s.ExitErr()); !ok || code != 3 {
		h.t.Errorf("ExitErr() = %v, want exit status 3 (an error with ExitCode() 3)", s.ExitErr())
	}
	h.stop(s)
	if want := "exiting at start as asked"; !strings.Contains(s.stderr.String(), want) {
		h.t.Errorf("stderr = %q, want it to contain %q", s.stderr, want)
	}
	h.checkStateDir(before, "Stop")
}

func testStopKillsTree(h *harness) {
	before := h.stateDir()
	s := h.start()
	h.ready(s)
	var agent struct {
		PID int `json:"pid"`
	}
	var child struct {
		PID int `json:"pid"`
	}
	h.invoke(s, map[string]any{"op": "incr"}, &agent)
	h.invoke(s, map[string]any{"op": "spawn"}, &child)
	var procs []proc
	if h.opts.HostPIDs {
		procs = []proc{h.hostProc(agent.PID), h.hostProc(child.PID)}
	}
	h.stop(s)
	select {
	case <-s.Done():
	default:
		h.t.Error("Done not closed after Stop")
	}
	for i, p := range procs {
		h.checkGone(p, []string{"agent", "agent's child"}[i])
	}
	h.checkStateDir(before, "Stop")
	if c, err := s.DialContext(h.t.Context(), "tcp", AgentPort); err == nil {
		_ = c.Close()
		h.t.Error("DialContext after Stop connected")
	}
	if _, err := s.Usage(h.t.Context()); err != nil {
		h.t.Logf("Usage after Stop: %v", err) // allowed to fail, not to panic or hang
	}
}

func testStopConcurrent(h *harness) {
	s := h.start()
	h.ready(s)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = s.Stop(h.t.Context()) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			h.t.Errorf("concurrent Stop %d: %v", i, err)
		}
	}
	if err := s.Stop(h.t.Context()); err != nil {
		h.t.Errorf("second Stop: %v", err)
	}
	select {
	case <-s.Done():
	default:
		h.t.Error("Done not closed after Stop")
	}
}

func testUsage(h *harness) {
	s := h.start()
	h.ready(s)
	const spin = 300 * time.Millisecond
	var burnt struct {
		CPUMS int64 `json:"cpu_ms"`
	}
	h.invoke(s, map[string]any{"op": "spin", "ms": spin.Milliseconds()}, &burnt)
	u, err := s.Usage(h.t.Context())
	if err != nil {
		h.t.Fatalf("Usage: %v", err)
	}
	// The agent burnt at least 300 ms by its own getrusage; the kernel reports the same
	// clock in coarser units (clock ticks), so allow a little rounding.
	if least := spin * 9 / 10; u.CPUTime < least {
		h.t.Errorf("Usage().CPUTime = %v after the agent burnt %d ms, want ≥ %v", u.CPUTime, burnt.CPUMS, least)
	}
	if u.MemoryBytes <= 0 || u.MemoryPeakBytes < u.MemoryBytes {
		h.t.Errorf("Usage() memory = %d now, %d peak; want now > 0 and peak ≥ now", u.MemoryBytes, u.MemoryPeakBytes)
	}
	u2, err := s.Usage(h.t.Context())
	if err != nil {
		h.t.Fatalf("Usage: %v", err)
	}
	if u2.CPUTime < u.CPUTime || u2.MemoryPeakBytes < u.MemoryPeakBytes {
		h.t.Errorf("Usage went backwards: %+v then %+v", u, u2)
	}
}

func (h *harness) reclaimer() sandbox.Reclaimer {
	h.t.Helper()
	if !h.d.Capabilities().Reclaim {
		h.t.Skip("driver does not reclaim")
	}
	if h.opts.NewDriver == nil {
		h.t.Skip("Options.NewDriver is nil")
	}
	r, ok := h.opts.NewDriver(h.t).(sandbox.Reclaimer)
	if !ok {
		h.t.Fatal("fresh driver does not implement Reclaimer")
	}
	return r
}

func testReclaimLive(h *harness) {
	r := h.reclaimer()
	before := h.stateDir()
	s := h.start()
	h.ready(s)
	var agent, child struct {
		PID int `json:"pid"`
	}
	h.invoke(s, map[string]any{"op": "incr"}, &agent)
	h.invoke(s, map[string]any{"op": "spawn"}, &child)
	var procs []proc
	if h.opts.HostPIDs {
		procs = []proc{h.hostProc(agent.PID), h.hostProc(child.PID)}
	}
	if err := r.Reclaim(h.t.Context(), s.State()); err != nil {
		h.t.Fatalf("Reclaim: %v", err)
	}
	h.waitDone(s, "Reclaim")
	for i, p := range procs {
		h.checkGone(p, []string{"agent", "agent's child"}[i])
	}
	h.checkStateDir(before, "Reclaim")
	if err := r.Reclaim(h.t.Context(), s.State()); err != nil {
		h.t.Errorf("second Reclaim: %v", err)
	}
	h.stop(s) // the old instance still holds its handles
	if err := r.Reclaim(h.t.Context(), []byte("not json")); err == nil {
		h.t.Error("Reclaim of a malformed state succeeded")
	}
}

func testReclaimStopped(h *harness) {
	r := h.reclaimer()
	before := h.stateDir()
	s := h.start()
	h.ready(s)
	h.stop(s)
	if err := r.Reclaim(h.t.Context(), s.State()); err != nil {
		h.t.Fatalf("Reclaim of a stopped sandbox: %v", err)
	}
	h.checkStateDir(before, "Stop and Reclaim")
}

func (h *harness) execer(s *started) sandbox.Execer {
	h.t.Helper()
	e, ok := s.Sandbox.(sandbox.Execer)
	if !ok {
		h.t.Skip("sandbox does not implement Execer")
	}
	return e
}

func testExecExitCode(h *harness) {
	s := h.start()
	h.ready(s)
	var out, errOut SyncBuffer
	code, err := h.execer(s).Exec(h.t.Context(), sandbox.ExecRequest{
		Command: []string{"/bin/sh", "-c", "echo hi; echo oops >&2; exit 7"},
		Stdout:  &out, Stderr: &errOut,
	})
	if err != nil {
		h.t.Fatalf("Exec: %v", err)
	}
	if code != 7 || out.String() != "hi\n" || errOut.String() != "oops\n" {
		h.t.Errorf("Exec = %d, stdout %q, stderr %q; want 7, %q, %q", code, out.String(), errOut.String(), "hi\n", "oops\n")
	}
}

func testExecEnvNetwork(h *harness) {
	s := h.start("SBXTEST_FROM_SPEC=spec", "SBXTEST_OVERRIDE=spec")
	h.ready(s)
	var out SyncBuffer
	script := `echo "$SBXTEST_FROM_SPEC $SBXTEST_FROM_EXEC $SBXTEST_OVERRIDE"
while read -r line; do case "$line" in *:*) echo "${line%%:*}";; esac; done < /proc/net/dev`
	code, err := h.execer(s).Exec(h.t.Context(), sandbox.ExecRequest{
		Command: []string{"/bin/sh", "-c", script},
		Env:     []string{"SBXTEST_FROM_EXEC=exec", "SBXTEST_OVERRIDE=exec"},
		Stdout:  &out,
	})
	if err != nil || code != 0 {
		h.t.Fatalf("Exec = %d, %v", code, err)
	}
	want := "spec exec exec\nlo\n" // then the interfaces of its network: loopback only
	if got := out.String(); got != want {
		h.t.Errorf("Exec output = %q, want %q", got, want)
	}
}

func testExecCancel(h *harness) {
	s := h.start()
	h.ready(s)
	stdin, hold, err := os.Pipe() // the command blocks reading stdin until hold closes
	if err != nil {
		h.t.Fatal(err)
	}
	defer func() { _, _ = stdin.Close(), hold.Close() }()
	ctx, cancel := context.WithCancel(h.t.Context())
	defer cancel()
	out := &notifyWriter{ready: make(chan struct{})}
	errc := make(chan error, 1)
	go func() {
		_, err := h.execer(s).Exec(ctx, sandbox.ExecRequest{
			Command: []string{"/bin/sh", "-c", "echo started $$; read -r line"},
			Stdin:   stdin, Stdout: out,
		})
		errc <- err
	}()
	select {
	case <-out.ready:
	case err := <-errc:
		h.t.Fatalf("Exec returned before its command started: %v", err)
	}
	var shell proc
	if h.opts.HostPIDs {
		f := strings.Fields(out.String())
		pid, perr := strconv.Atoi(f[len(f)-1])
		if perr != nil {
			h.t.Fatalf("parse pid from %q: %v", out.String(), perr)
		}
		shell = h.hostProc(pid)
	}
	cancel()
	select {
	case err = <-errc:
	case <-time.After(30 * time.Second):
		h.t.Fatal("Exec did not return 30 s after its context was canceled")
	}
	if !errors.Is(err, context.Canceled) {
		h.t.Errorf("Exec after cancel = %v, want context.Canceled", err)
	}
	if h.opts.HostPIDs {
		h.checkGone(shell, "canceled command")
	}
}

// notifyWriter closes ready at the first newline written.
type notifyWriter struct {
	SyncBuffer
	once  sync.Once
	ready chan struct{}
}

func (w *notifyWriter) Write(p []byte) (int, error) {
	n, err := w.SyncBuffer.Write(p)
	if strings.Contains(w.String(), "\n") {
		w.once.Do(func() { close(w.ready) })
	}
	return n, err
}
