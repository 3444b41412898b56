package sandboxtest

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
)

// This file wraps the test agent's probes ({"op": "probe"}, see test/agent): each makes
// one real attempt from inside a sandbox and decodes what happened.

// attempt is the outcome of one probe attempt.
type attempt struct {
	OK    bool   `json:"ok"`
	Error string `json:"error"`
	Errno string `json:"errno"` // "EPERM"; "" when not a system call error
}

func (a attempt) String() string {
	if a.OK {
		return "succeeded"
	}
	return "failed: " + a.Error
}

// probe runs one probe in s and decodes its answer into out.
func (h *harness) probe(s *marked, kind string, args map[string]any, out any) {
	h.t.Helper()
	op := map[string]any{"op": "probe", "probe": kind}
	for k, v := range args {
		op[k] = v
	}
	h.invoke(s.started, op, out)
}

// agentID is what the "id" probe reports.
type agentID struct {
	Nonce    string `json:"nonce"`
	PID      int    `json:"pid"`
	Hostname string `json:"hostname"`
	Cwd      string `json:"cwd"`
	Exe      string `json:"exe"`
}

func (h *harness) id(s *marked) agentID {
	h.t.Helper()
	var id agentID
	h.probe(s, "id", nil, &id)
	if id.Nonce == "" {
		h.t.Fatalf("id probe answered no nonce: %+v", id)
	}
	return id
}

func (h *harness) status(s *marked) creds {
	h.t.Helper()
	var c creds
	h.probe(s, "status", nil, &c)
	return c
}

// read reads path inside s; content is meaningful when the attempt succeeded.
func (h *harness) read(s *marked, path string) (attempt, string) {
	h.t.Helper()
	var r struct {
		attempt
		Content string `json:"content"`
	}
	h.probe(s, "read", map[string]any{"path": path}, &r)
	return r.attempt, r.Content
}

func (h *harness) write(s *marked, path, content string) attempt {
	h.t.Helper()
	var a attempt
	h.probe(s, "write", map[string]any{"path": path, "content": content}, &a)
	return a
}

// list lists the directory path inside s.
func (h *harness) list(s *marked, path string) (attempt, []string) {
	h.t.Helper()
	var r struct {
		attempt
		Names []string `json:"names"`
	}
	h.probe(s, "list", map[string]any{"path": path}, &r)
	return r.attempt, r.Names
}

// visibleProc is one process the "procs" probe saw.
type visibleProc struct {
	PID     int    `json:"pid"`
	Cmdline string `json:"cmdline"`
	Mark    string `json:"mark"`
}

// procs lists the processes visible in s's /proc, with their markEnv values.
func (h *harness) procs(s *marked) []visibleProc {
	h.t.Helper()
	var r struct {
		Procs []visibleProc `json:"procs"`
	}
	h.probe(s, "procs", map[string]any{"key": markEnv}, &r)
	return r.Procs
}

func (h *harness) kill(s *marked, pid, sig int) attempt {
	h.t.Helper()
	var a attempt
	h.probe(s, "kill", map[string]any{"pid": pid, "signal": sig}, &a)
	return a
}

// dialed is the outcome of one connection attempt of the "connect" probe.
type dialed struct {
	attempt
	Addr     string `json:"addr"`
	MS       int64  `json:"ms"` // how long the dial took
	Remote   string `json:"remote"`
	Received string `json:"received"`
}

// connect dials every address from inside s at once, writing send on each connection,
// and returns the outcomes in order.
func (h *harness) connect(s *marked, addrs []string, send string) []dialed {
	h.t.Helper()
	var r struct {
		Results []dialed `json:"results"`
	}
	h.probe(s, "connect", map[string]any{"addrs": addrs, "send": send, "timeout_ms": connectTimeout.Milliseconds()}, &r)
	if len(r.Results) != len(addrs) {
		h.t.Fatalf("connect probe answered %d results for %d addresses", len(r.Results), len(addrs))
	}
	var sum []string
	for _, d := range r.Results {
		outcome := "connected"
		if !d.OK {
			outcome = cmp.Or(d.Errno, d.Error)
		}
		sum = append(sum, fmt.Sprintf("%s %s in %d ms", d.Addr, outcome, d.MS))
	}
	h.t.Logf("sandbox %s dialed: %s", s.spec.ID, strings.Join(sum, "; "))
	return r.Results
}

// idRequest asks a test agent for its id over a raw connection (HTTP/1.0: the agent
// closes the connection after answering).
func idRequest() string {
	body := `{"op":"probe","probe":"id"}`
	return "POST /invocations HTTP/1.0\r\nHost: sandbox\r\nContent-Type: application/json\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + body
}

// addrs returns the addresses (CIDR notation) of every network interface inside s.
func (h *harness) addrs(s *marked) map[string][]string {
	h.t.Helper()
	var r struct {
		attempt
		Interfaces map[string][]string `json:"interfaces"`
	}
	h.probe(s, "addrs", nil, &r)
	if !r.OK {
		h.t.Fatalf("addrs probe: %s", r.Error)
	}
	return r.Interfaces
}

// execResult is what the "exec" probe reports.
type execResult struct {
	attempt
	Path     string `json:"path"`
	ExitCode int    `json:"exit_code"`
	Stdout   string `json:"stdout"`
	Stderr   string `json:"stderr"`
}

func (h *harness) exec(s *marked, path string, env ...string) execResult {
	h.t.Helper()
	var r execResult
	h.probe(s, "exec", map[string]any{"path": path, "env": env}, &r)
	return r
}

// cloneResult is what the "clone" probe reports: output is the child's status.
type cloneResult struct {
	attempt
	Output string `json:"output"`
}

func (h *harness) clone(s *marked, flags ...string) cloneResult {
	h.t.Helper()
	var r cloneResult
	h.probe(s, "clone", map[string]any{"flags": flags}, &r)
	return r
}

func (h *harness) unshare(s *marked, flags ...string) attempt {
	h.t.Helper()
	var a attempt
	h.probe(s, "unshare", map[string]any{"flags": flags}, &a)
	return a
}
