package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"berth.dev/berth/internal/sandbox/microvm/guestapi"
)

// outputGrace bounds how long output is awaited after a process exited: a child it left
// behind may hold its pipes open.
const outputGrace = 300 * time.Millisecond

// startAgent prepares the session and starts its agent; the caller reports it started,
// then relays it (relayAgent).
func (g *guest) startAgent(s *guestapi.Start) (*spawned, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.start != nil {
		return nil, errors.New("the agent was already started")
	}
	if err := reseed(s.Entropy); err != nil {
		return nil, err
	}
	if err := setClock(s.TimeUnixNano); err != nil {
		return nil, err
	}
	if err := g.applyLimits(s); err != nil {
		return nil, err
	}
	announce()
	if s.CodeMount != "" {
		if err := g.mountCode(s.CodeMount, s.UID, s.GID); err != nil {
			return nil, err
		}
	}
	if s.WorkDir != "" {
		if err := os.MkdirAll(s.WorkDir, 0o755); err != nil {
			return nil, programError{fmt.Errorf("working directory: %w", err)}
		}
	}
	g.ns = g.isolated
	if s.Network != nil && s.Network.Public {
		g.ns = g.public
	}
	if s.Network != nil {
		for _, f := range s.Network.Forwards {
			if err := g.forward(g.ns, f); err != nil {
				return nil, err
			}
		}
	}
	p, err := g.spawn(s, s.Argv, s.Env, s.WorkDir, true)
	if err != nil {
		return nil, err
	}
	g.start = s
	g.token = s.Token
	return p, nil
}

// applyLimits bounds the session: its user's processes and threads (RLIMIT_NPROC, set on
// PID 1, which as root is exempt, and inherited by every child) and the writable layer's
// size. It also marks the kernel log, so that the agent's exit reports only
// out-of-memory kills of this session.
func (g *guest) applyLimits(s *guestapi.Start) error {
	if s.Pids > 0 {
		lim := unix.Rlimit{Cur: uint64(s.Pids), Max: uint64(s.Pids)}
		if err := unix.Prlimit(0, unix.RLIMIT_NPROC, &lim, nil); err != nil {
			return fmt.Errorf("pids limit %d: %w", s.Pids, err)
		}
	}
	if s.DiskBytes > 0 {
		if err := g.layer.resize(s.DiskBytes); err != nil {
			return err
		}
	}
	g.kmsgMark, _ = kmsgScan(-1)
	return nil
}

// programError is a failure to run a program that is the caller's: the program is
// missing or not executable, or its working directory unusable.
type programError struct{ err error }

func (e programError) Error() string { return e.err.Error() }
func (e programError) Unwrap() error { return e.err }

// isProgramError reports whether err is a programError.
func isProgramError(err error) bool { return errors.As(err, new(programError)) }

// spawned is a started process with its output pipes.
type spawned struct {
	proc           *os.Process
	status         <-chan unix.WaitStatus
	stdout, stderr *os.File
	stdin          *os.File // nil unless asked for
}

// spawn starts argv as the session's user in the agent's network namespace (g.ns, which
// startAgent sets). The agent
// leads a session of its own; other commands lead a process group (killed as one).
func (g *guest) spawn(s *guestapi.Start, argv, env []string, dir string, agent bool) (*spawned, error) {
	if len(argv) == 0 {
		return nil, errors.New("empty command")
	}
	path, err := lookPath(argv[0], env)
	if err != nil {
		return nil, programError{err}
	}
	var files [3]*os.File
	var parentEnds []*os.File
	closeAll := func(fs []*os.File) {
		for _, f := range fs {
			if f != nil {
				_ = f.Close()
			}
		}
	}
	sp := &spawned{}
	if agent {
		if files[0], err = os.Open(os.DevNull); err != nil {
			return nil, err
		}
	} else {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		files[0], sp.stdin = r, w
		parentEnds = append(parentEnds, w)
	}
	for i, dst := range []**os.File{&sp.stdout, &sp.stderr} {
		r, w, err := os.Pipe()
		if err != nil {
			closeAll(files[:])
			closeAll(parentEnds)
			return nil, err
		}
		files[i+1], *dst = w, r
		parentEnds = append(parentEnds, r)
	}
	if dir == "" {
		dir = "/"
	}
	sys := &syscall.SysProcAttr{
		Credential: &syscall.Credential{Uid: uint32(s.UID), Gid: uint32(s.GID), Groups: []uint32{}},
		Setsid:     agent,
		Setpgid:    !agent,
	}
	proc, err := g.ns.startProcess(path, argv, &os.ProcAttr{Dir: dir, Env: dedupEnv(env), Files: files[:], Sys: sys})
	closeAll(files[:])
	if err != nil {
		closeAll(parentEnds)
		err = fmt.Errorf("start %s: %w", argv[0], err)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.ENOEXEC) || errors.Is(err, syscall.ENOTDIR) {
			err = programError{err}
		}
		return nil, err
	}
	sp.proc = proc
	sp.status = g.reaper.wait(proc.Pid)
	return sp, nil
}

// relayAgent streams the agent's output to the host, then its exit status.
func (g *guest) relayAgent(p *spawned) {
	var wg sync.WaitGroup
	for fd, r := range map[int]*os.File{1: p.stdout, 2: p.stderr} {
		wg.Go(func() {
			buf := make([]byte, 32<<10)
			for {
				n, err := r.Read(buf)
				if n > 0 {
					_ = g.sendHeld(guestapi.Message{Type: guestapi.TypeOutput, FD: fd, Data: slices.Clone(buf[:n])})
				}
				if err != nil {
					return
				}
			}
		})
	}
	ws := <-p.status
	g.exited.Store(true)
	waitOutput(&wg, p.stdout, p.stderr)
	code, sig := exitCode(ws)
	oom := oomSince(g.kmsgMark, sig == int(unix.SIGKILL))
	if err := g.sendHeld(guestapi.Message{Type: guestapi.TypeExit, Code: code, Signal: sig, OOM: oom}); err != nil {
		g.log.Error("report agent exit", "err", err)
	}
}

// waitOutput waits for the output readers to drain, at most outputGrace, then closes the
// pipes so they end.
func waitOutput(wg *sync.WaitGroup, pipes ...*os.File) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(outputGrace):
		for _, p := range pipes {
			_ = p.Close()
		}
		<-done
	}
}

// lookPath resolves argv0 like execvp, with PATH from env.
func lookPath(argv0 string, env []string) (string, error) {
	if strings.Contains(argv0, "/") {
		return argv0, nil
	}
	path := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range filepath.SplitList(path) {
		p := filepath.Join(dir, argv0)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: not found in PATH %s", argv0, path)
}

// dedupEnv keeps the last value of each key, in first-seen order, as os/exec does.
func dedupEnv(env []string) []string {
	idx := map[string]int{}
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := idx[k]; ok {
			out[i] = kv
			continue
		}
		idx[k] = len(out)
		out = append(out, kv)
	}
	return out
}
