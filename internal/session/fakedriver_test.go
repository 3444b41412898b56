package session

// TEST FAKE. fakeDriver stands in for the real sandbox driver where the real one cannot
// produce a condition (or until internal/sandbox/process exists): each "sandbox" is an
// in-process HTTP server on 127.0.0.1 that behaves like test/agent — TESTAGENT_START
// (exit, unhealthy, sleep=<d>), GET /ping (Healthy / HealthyBusy), and the invocation ops
// incr, busy and crash — plus hang, which makes /ping stop answering.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"berth.dev/berth/internal/sandbox"
)

type fakeDriver struct {
	mu      sync.Mutex
	running map[string]*fakeSandbox
}

var (
	_ sandbox.Driver    = (*fakeDriver)(nil)
	_ sandbox.Reclaimer = (*fakeDriver)(nil)
	_ sandbox.Sandbox   = (*fakeSandbox)(nil)
)

func newFakeDriver() *fakeDriver { return &fakeDriver{running: map[string]*fakeSandbox{}} }

func (d *fakeDriver) Name() string { return "fake" }

func (d *fakeDriver) Capabilities() sandbox.Capabilities {
	return sandbox.Capabilities{Isolation: "none", Reclaim: true}
}

func (d *fakeDriver) Available() error { return nil }

func (d *fakeDriver) Start(ctx context.Context, spec sandbox.Spec) (sandbox.Sandbox, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	env := map[string]string{}
	for _, kv := range spec.Env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	port := 8080
	if p := env["PORT"]; p != "" {
		port, _ = strconv.Atoi(p)
	}
	out := spec.Stdout
	if out == nil {
		out = io.Discard
	}
	sb := &fakeSandbox{id: spec.ID, port: port, done: make(chan struct{}), driver: d, out: out,
		unhealthy: env["TESTAGENT_START"] == "unhealthy"}
	d.mu.Lock()
	d.running[sb.id] = sb
	d.mu.Unlock()
	start := env["TESTAGENT_START"]
	if start == "exit" {
		fmt.Fprintln(out, "testagent: exiting at start as asked")
		sb.exit(errors.New("exit status 3"))
		return sb, nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	sb.addr = ln.Addr().String()
	fmt.Fprintf(out, "testagent listening on 0.0.0.0:%d\n", port)
	sb.srv = &http.Server{Handler: sb.handler(), ReadHeaderTimeout: 10 * time.Second}
	delay := time.Duration(0)
	if d, ok := strings.CutPrefix(start, "sleep="); ok {
		delay, _ = time.ParseDuration(d)
	}
	sb.served.Add(1)
	go func() {
		defer sb.served.Done()
		select {
		case <-time.After(delay):
		case <-sb.done:
			_ = ln.Close()
			return
		}
		_ = sb.srv.Serve(ln)
	}()
	return sb, nil
}

// Reclaim stops the sandbox named in state, as the real drivers kill a leftover.
func (d *fakeDriver) Reclaim(_ context.Context, state json.RawMessage) error {
	var st struct{ ID string }
	if err := json.Unmarshal(state, &st); err != nil {
		return err
	}
	d.mu.Lock()
	sb := d.running[st.ID]
	d.mu.Unlock()
	if sb != nil {
		return sb.Stop(context.Background())
	}
	return nil
}

type fakeSandbox struct {
	id, addr  string
	port      int
	driver    *fakeDriver
	srv       *http.Server
	served    sync.WaitGroup
	out       io.Writer
	unhealthy bool

	counter   atomic.Int64
	hung      atomic.Bool
	busyUntil atomic.Int64 // unix nanos

	mu       sync.Mutex
	done     chan struct{}
	exitErr  error
	stopOnce sync.Once
}

func (s *fakeSandbox) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ping", func(w http.ResponseWriter, r *http.Request) {
		if s.hung.Load() {
			<-r.Context().Done()
			return
		}
		if s.unhealthy {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		status := "Healthy"
		if time.Now().UnixNano() < s.busyUntil.Load() {
			status = "HealthyBusy"
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"status": status})
	})
	mux.HandleFunc("POST /invocations", func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			_, _ = io.Copy(w, r.Body) // echo, as test/agent does
			return
		}
		var req struct {
			Op      string `json:"op"`
			Seconds int    `json:"seconds"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		switch req.Op {
		case "incr":
			_ = json.NewEncoder(w).Encode(map[string]any{"count": s.counter.Add(1), "pid": 0})
		case "busy":
			if req.Seconds == 0 {
				req.Seconds = 5
			}
			s.busyUntil.Store(time.Now().Add(time.Duration(req.Seconds) * time.Second).UnixNano())
			_ = json.NewEncoder(w).Encode(map[string]any{"busy_seconds": req.Seconds})
		case "hang":
			s.hung.Store(true)
			_ = json.NewEncoder(w).Encode(map[string]any{"hung": true})
		case "crash":
			fmt.Fprintln(s.out, "testagent: crashing as asked")
			go s.exit(errors.New("exit status 3"))
			panic(http.ErrAbortHandler)
		default:
			http.Error(w, "unknown op "+req.Op, http.StatusBadRequest)
		}
	})
	return mux
}

// exit ends the fake agent process.
func (s *fakeSandbox) exit(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.done:
		return
	default:
	}
	s.exitErr = err
	if s.srv != nil {
		_ = s.srv.Close()
	}
	close(s.done)
}

func (s *fakeSandbox) ID() string { return s.id }

func (s *fakeSandbox) DialContext(ctx context.Context, network string, port int) (net.Conn, error) {
	select {
	case <-s.done:
		return nil, errors.New("connection refused: sandbox exited")
	default:
	}
	if port != s.port || s.addr == "" {
		return nil, fmt.Errorf("dial port %d: connection refused", port)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, s.addr)
}

func (s *fakeSandbox) Done() <-chan struct{} { return s.done }

func (s *fakeSandbox) ExitErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exitErr
}

func (s *fakeSandbox) Usage(context.Context) (sandbox.Usage, error) {
	return sandbox.Usage{CPUTime: time.Millisecond * time.Duration(s.counter.Load()+1), MemoryBytes: 1 << 20, MemoryPeakBytes: 2 << 20}, nil
}

func (s *fakeSandbox) State() json.RawMessage {
	b, _ := json.Marshal(map[string]string{"id": s.id})
	return b
}

func (s *fakeSandbox) Stop(context.Context) error {
	s.stopOnce.Do(func() {
		s.exit(errors.New("signal: killed"))
		s.served.Wait()
		s.driver.mu.Lock()
		delete(s.driver.running, s.id)
		s.driver.mu.Unlock()
	})
	return nil
}

// crash makes the agent of l exit; the request itself fails.
func crash(t *testing.T, l *Lease) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://agent/invocations", strings.NewReader(`{"op":"crash"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Transport: l.Transport()}).Do(req)
	if err == nil {
		_ = resp.Body.Close()
	}
}
