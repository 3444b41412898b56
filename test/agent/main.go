// Command agent is Berth's test agent: one static binary that follows the AgentCore HTTP
// container contract and misbehaves on request, so tests of the sandbox drivers, the session
// manager and the data plane exercise real processes.
//
// Start-up behaviour comes from TESTAGENT_START: "" (serve), "exit" (exit 3 at once),
// "unhealthy" (serve, but /ping answers 503), "sleep=<duration>" (wait, then serve),
// "hang" (never serve, never exit: the child that "spawn" starts), "status" (print the
// process's credentials and confinement as JSON, as the "status" probe reports them, and
// exit 0: what a copy of this binary run by the "exec" or "clone" probe prints).
// It listens on 0.0.0.0:$PORT (default 8080) and serves invocations at
// $INVOCATIONS_PATH (default /invocations).
//
// POST /invocations with Content-Type application/json takes {"op": …}:
//
//	incr          increment an in-memory counter and return it (session state)
//	env           return the environment and the request headers
//	sse           stream n events (default 5), one every interval_ms (default 200)
//	burst         stream n events (default 5) back to back, flushing each (event rate)
//	crash         exit 3 before answering
//	crash-mid     send one SSE event, then exit 3
//	busy          report HealthyBusy for seconds (default 5)
//	sleep         answer after ms milliseconds
//	spin          burn ms milliseconds of CPU time (measured with getrusage), then answer
//	spawn         start a child copy of this binary with TESTAGENT_START=hang (it inherits
//	              stdout and stderr) and return its pid, for process-tree tests
//	write         write content to the file name (relative to the working directory)
//	read          return the content of the file name, or 404
//	probe         make one attempt of the sandbox isolation suite and report its outcome
//	              (see below)
//	print         write content as it is (no newline added) to stdout, or to stderr when
//	              name is "stderr", for session log tests (print.go)
//	trace         export spans with the OpenTelemetry SDK to $OTEL_EXPORTER_OTLP_ENDPOINT,
//	              children of the request's traceparent, flushed before answering (trace.go)
//
// {"op": "probe", "probe": …} attempts something a sandbox must or must not allow, from
// inside it, and answers 200 with JSON that says what happened: a failed attempt carries
// "ok": false, "error" and, for a system call, "errno" (its name, "EPERM"). Probes (Linux
// only; fields of the request in parentheses):
//
//	id       this process's random nonce (fixed at start: tells agents apart), pid,
//	         hostname, working directory and executable
//	status   credentials from system calls (uid, euid, gid, egid, resuid, resgid; the
//	         capability sets cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb in hex; nnp, the
//	         no_new_privs flag) and the fields of /proc/self/status that say the same
//	         (Uid, Gid, Groups, CapInh, CapPrm, CapEff, CapBnd, CapAmb, NoNewPrivs) plus
//	         Seccomp; a kernel that omits a field (gVisor) leaves it out
//	read     read the file at path (absolute, or relative to the working directory)
//	write    write content to the file at path
//	list     list the directory at path
//	procs    every pid in /proc with its command line and the value of the environment
//	         variable key in its environment, when readable ("mark")
//	kill     kill(pid, signal)
//	connect  dial every TCP address in addrs at once (timeout_ms each, default 2000) and
//	         report each outcome with how long the dial took ("ms"); on a connection,
//	         write send and return what arrives until EOF or the timeout ("received")
//	addrs    the network interfaces and their addresses
//	setuid   setuid(0), setgid(0) and setgroups([0]), then the status
//	mount    mount a tmpfs at path (created if missing; unmounted at once if it worked),
//	         and fsopen("tmpfs")
//	unshare  unshare(flags) on a thread that is then discarded; flags are names such as
//	         "CLONE_NEWNS" (a user namespace cannot be unshared by a threaded process:
//	         use clone)
//	clone    start a copy of this binary in new namespaces (clone flags) that prints its
//	         status; "output" holds it
//	exec     run path (relative: next to this binary) with env added, for example a
//	         setuid copy of this binary with TESTAGENT_START=status; exit code and output
//	alloc    allocate mb MiB, touch every page, and keep it
//	fork     fork up to n children that block every signal, close every descriptor and
//	         pause until SIGKILL (a fork bomb bounded by n); "forked" counts them, "error"
//	         is what stopped it
//	fill     write mb MiB to path in 1 MiB chunks and sync; "written" counts the bytes
//	         written before the first error (ENOSPC when a disk limit holds); the file stays
//
// GET /ws upgrades to a WebSocket that echoes every text and binary message; a text
// message "close:<code>" makes the agent close with that status code.
//
// Any other content type is echoed back, streamed, with its SHA-256 in the trailer
// X-Body-Sha256 (tests hash what they receive rather than rely on the trailer).
package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type request struct {
	Name       string `json:"name"`
	Content    string `json:"content"`
	Op         string `json:"op"`
	N          int    `json:"n"`
	IntervalMS int    `json:"interval_ms"`
	Seconds    int    `json:"seconds"`
	MS         int    `json:"ms"`

	// Fields of the probes.
	Probe     string   `json:"probe"`
	Path      string   `json:"path"`
	Addrs     []string `json:"addrs"`
	Send      string   `json:"send"`
	TimeoutMS int      `json:"timeout_ms"`
	PID       int      `json:"pid"`
	Signal    int      `json:"signal"`
	MB        int      `json:"mb"`
	Flags     []string `json:"flags"`
	Env       []string `json:"env"`
	Key       string   `json:"key"`
}

var (
	counter   atomic.Int64
	busyMu    sync.Mutex
	busyUntil time.Time
	started   = time.Now().Unix()
	nonce     = rand.Text() // tells this process apart from every other agent
)

func main() {
	start := os.Getenv("TESTAGENT_START")
	switch {
	case start == "exit":
		fmt.Fprintln(os.Stderr, "testagent: exiting at start as asked")
		os.Exit(3)
	case start == "status":
		printStatus()
		os.Exit(0)
	case start == "hang":
		for {
			time.Sleep(time.Hour)
		}
	case strings.HasPrefix(start, "sleep="):
		d, _ := time.ParseDuration(strings.TrimPrefix(start, "sleep="))
		time.Sleep(d)
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ping", func(w http.ResponseWriter, _ *http.Request) {
		if start == "unhealthy" {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		status := "Healthy"
		busyMu.Lock()
		if time.Now().Before(busyUntil) {
			status = "HealthyBusy"
		}
		busyMu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"status": status, "time_of_last_update": started})
	})
	path := os.Getenv("INVOCATIONS_PATH")
	if path == "" {
		path = "/invocations"
	}
	mux.HandleFunc("POST "+path, invoke)
	mux.HandleFunc("GET /ws", wsEcho)
	fmt.Fprintln(os.Stdout, "testagent listening on 0.0.0.0:"+port)
	srv := &http.Server{Addr: "0.0.0.0:" + port, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, "testagent:", err)
		os.Exit(1)
	}
}

func invoke(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		echo(w, r)
		return
	}
	var req request
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch req.Op {
	case "write":
		if err := os.WriteFile(req.Name, []byte(req.Content), 0o644); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"written": req.Name})
	case "read":
		raw, err := os.ReadFile(req.Name)
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"content": string(raw)})
	case "incr":
		_ = json.NewEncoder(w).Encode(map[string]any{
			"count": counter.Add(1), "pid": os.Getpid(),
			"session": r.Header.Get("X-Amzn-Bedrock-AgentCore-Runtime-Session-Id"),
		})
	case "env":
		headers := map[string]string{}
		for k := range r.Header {
			headers[k] = r.Header.Get(k)
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"env": os.Environ(), "headers": headers, "cwd": cwd()})
	case "sse", "crash-mid", "burst":
		sse(w, req)
	case "crash":
		fmt.Fprintln(os.Stderr, "testagent: crashing as asked")
		os.Exit(3)
	case "busy":
		if req.Seconds == 0 {
			req.Seconds = 5
		}
		busyMu.Lock()
		busyUntil = time.Now().Add(time.Duration(req.Seconds) * time.Second)
		busyMu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]any{"busy_seconds": req.Seconds})
	case "sleep":
		time.Sleep(time.Duration(req.MS) * time.Millisecond)
		_ = json.NewEncoder(w).Encode(map[string]any{"slept_ms": req.MS})
	case "spin":
		_ = json.NewEncoder(w).Encode(map[string]any{"cpu_ms": spin(time.Duration(req.MS) * time.Millisecond).Milliseconds()})
	case "probe":
		probe(w, req)
	case "print":
		printOutput(w, req) // print.go
	case "trace":
		traceOp(w, r) // trace.go
	case "spawn":
		pid, err := spawn()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"pid": pid})
	default:
		http.Error(w, "unknown op "+req.Op, http.StatusBadRequest)
	}
}

func sse(w http.ResponseWriter, req request) {
	n, interval := req.N, time.Duration(req.IntervalMS)*time.Millisecond
	if n == 0 {
		n = 5
	}
	switch {
	case req.Op == "burst":
		interval = 0
	case interval == 0:
		interval = 200 * time.Millisecond
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	for i := range n {
		if i > 0 && interval > 0 {
			time.Sleep(interval)
		}
		fmt.Fprintf(w, "data: {\"i\":%d,\"sent_unix_nano\":%d}\n\n", i, time.Now().UnixNano())
		_ = rc.Flush()
		if req.Op == "crash-mid" {
			fmt.Fprintln(os.Stderr, "testagent: crashing mid-stream as asked")
			os.Exit(3)
		}
	}
}

func echo(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Trailer", "X-Body-Sha256")
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(w, h), r.Body); err != nil {
		return
	}
	w.Header().Set("X-Body-Sha256", hex.EncodeToString(h.Sum(nil)))
}

// spin burns at least d of this process's CPU time and returns how much it burnt.
func spin(d time.Duration) time.Duration {
	start := cpuTime()
	x := 0
	for cpuTime()-start < d {
		for i := range 100000 {
			x += i
		}
	}
	_ = x
	return cpuTime() - start
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// spawn starts a child copy of this binary that hangs, reaps it when it dies, and returns
// its pid.
func spawn() (int, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), "TESTAGENT_START=hang")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	go func() { _ = cmd.Wait() }()
	return cmd.Process.Pid, nil
}

func cwd() string {
	d, _ := os.Getwd()
	return d
}
