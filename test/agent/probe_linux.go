package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// probe performs one attempt of the isolation suite from inside the sandbox and reports
// what happened. An attempt that fails is a normal answer (200): its "error" and "errno"
// say why. Only a malformed request is a 400.
func probe(w http.ResponseWriter, req request) {
	var out any
	switch req.Probe {
	case "id":
		host, _ := os.Hostname()
		exe, _ := os.Executable()
		out = map[string]any{"nonce": nonce, "pid": os.Getpid(), "hostname": host, "cwd": cwd(), "exe": exe}
	case "status":
		out = status()
	case "read":
		raw, err := os.ReadFile(req.Path)
		out = result(err, "content", string(raw))
	case "write":
		out = result(os.WriteFile(req.Path, []byte(req.Content), 0o644))
	case "list":
		out = list(req.Path)
	case "procs":
		out = map[string]any{"procs": procs(req.Key)}
	case "kill":
		out = result(unix.Kill(req.PID, syscall.Signal(req.Signal)))
	case "connect":
		out = map[string]any{"results": connectAll(req.Addrs, req.Send, time.Duration(req.TimeoutMS)*time.Millisecond)}
	case "addrs":
		out = addrs()
	case "setuid":
		out = map[string]any{"setuid": result(syscall.Setuid(0)), "setgid": result(syscall.Setgid(0)),
			"setgroups": result(syscall.Setgroups([]int{0})), "status": status()}
	case "mount":
		out = mountAttempts(req.Path)
	case "unshare", "clone":
		flags, err := cloneFlags(req.Flags)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if req.Probe == "unshare" {
			out = result(unshareOnThread(flags))
		} else {
			out = cloneSelf(flags)
		}
	case "exec":
		out = execProbe(req.Path, req.Env)
	case "alloc":
		out = map[string]any{"allocated_mb": alloc(req.MB)}
	case "fork":
		n, err := forkMany(req.N)
		out = result(err, "forked", n)
	case "fill":
		n, err := fill(req.Path, req.MB)
		out = result(err, "written", n)
	default:
		http.Error(w, "unknown probe "+req.Probe, http.StatusBadRequest)
		return
	}
	_ = json.NewEncoder(w).Encode(out)
}

// result describes the outcome of an attempt: "ok", and for a failure "error" and the
// errno's name ("EPERM"), plus extra key/value pairs.
func result(err error, kv ...any) map[string]any {
	m := map[string]any{"ok": err == nil}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	if err != nil {
		m["error"] = err.Error()
		var errno syscall.Errno
		if errors.As(err, &errno) {
			m["errno"] = unix.ErrnoName(errno)
		}
	}
	return m
}

func list(dir string) map[string]any {
	des, err := os.ReadDir(dir)
	names := []string{}
	for _, de := range des {
		names = append(names, de.Name())
	}
	return result(err, "names", names)
}

// procs lists the processes this process can see in /proc, with the value of the
// environment variable key in each (when readable) and its command line.
func procs(key string) []map[string]any {
	des, _ := os.ReadDir("/proc")
	out := []map[string]any{}
	for _, de := range des {
		pid, err := strconv.Atoi(de.Name())
		if err != nil {
			continue
		}
		p := map[string]any{"pid": pid}
		if cmd, err := os.ReadFile("/proc/" + de.Name() + "/cmdline"); err == nil {
			p["cmdline"] = strings.TrimRight(strings.ReplaceAll(string(cmd), "\x00", " "), " ")
		}
		env, err := os.ReadFile("/proc/" + de.Name() + "/environ")
		if err != nil {
			p["environ_error"] = err.Error()
		}
		for kv := range bytes.SplitSeq(env, []byte{0}) {
			if k, v, ok := strings.Cut(string(kv), "="); ok && key != "" && k == key {
				p["mark"] = v
			}
		}
		out = append(out, p)
	}
	return out
}

// connectAll dials every address at once and reports each outcome. On a connection it
// writes send, if any, and returns what it reads until EOF, 64 KiB or the timeout.
func connectAll(addrs []string, send string, timeout time.Duration) []map[string]any {
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	out := make([]map[string]any, len(addrs))
	var wg sync.WaitGroup
	for i, addr := range addrs {
		wg.Go(func() {
			start := time.Now()
			c, err := net.DialTimeout("tcp", addr, timeout)
			ms := time.Since(start).Milliseconds()
			if err != nil {
				out[i] = result(err, "addr", addr, "ms", ms)
				return
			}
			defer func() { _ = c.Close() }()
			_ = c.SetDeadline(time.Now().Add(timeout))
			if send != "" {
				_, _ = io.WriteString(c, send)
			}
			got, _ := io.ReadAll(io.LimitReader(c, 64<<10))
			out[i] = result(nil, "addr", addr, "ms", ms, "remote", c.RemoteAddr().String(), "received", string(got))
		})
	}
	wg.Wait()
	return out
}

func addrs() map[string]any {
	ifs, err := net.Interfaces()
	out := map[string][]string{}
	for _, ifc := range ifs {
		as, _ := ifc.Addrs()
		list := []string{}
		for _, a := range as {
			list = append(list, a.String())
		}
		out[ifc.Name] = list
	}
	return result(err, "interfaces", out)
}
