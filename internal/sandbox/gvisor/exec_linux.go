package gvisor

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/tailbuf"
)

// execKillWait bounds how long a cancelled Exec waits for its process inside the sandbox
// to be known and killed, and for runsc exec to return.
const execKillWait = 10 * time.Second

// Exec runs req inside the sandbox with `runsc exec`: as the sandbox user with no
// capabilities, with the sandbox's environment plus req.Env (later entries win) and, unless
// req.WorkDir says otherwise, the agent's working directory. It returns the command's exit
// status, or 128+n if signal n killed it. If ctx ends first the command is killed (by its
// pid inside the sandbox) and ctx's error is returned. Processes the command leaves in the
// background live on until Stop. Stop kills running commands.
func (s *gvSandbox) Exec(ctx context.Context, req sandbox.ExecRequest) (int, error) {
	code, err := s.exec(ctx, req)
	if err != nil {
		return -1, fmt.Errorf("exec in sandbox %s: %w", s.id, err)
	}
	return code, nil
}

func (s *gvSandbox) exec(ctx context.Context, req sandbox.ExecRequest) (int, error) {
	if len(req.Command) == 0 || req.Command[0] == "" {
		return 0, fmt.Errorf("%w: empty command", errdefs.ErrInvalidArgument)
	}
	if err := sandbox.CheckEnv(req.Env); err != nil {
		return 0, err
	}
	if req.WorkDir != "" && !filepath.IsAbs(req.WorkDir) {
		return 0, fmt.Errorf("%w: working directory %s is not absolute", errdefs.ErrInvalidArgument, req.WorkDir)
	}
	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		return 0, fmt.Errorf("%w: sandbox is stopping", errdefs.ErrConflict)
	}
	if s.runner.done() {
		s.mu.Unlock()
		return 0, fmt.Errorf("%w: the agent has exited, and the sandbox with it", errdefs.ErrConflict)
	}
	s.execs.Add(1)
	s.execSeq++
	n := s.execSeq
	s.mu.Unlock()
	defer s.execs.Done()
	if err := ctx.Err(); err != nil {
		return 0, err
	}

	cwd := s.bundle.WorkDir
	if req.WorkDir != "" {
		cwd = req.WorkDir
	}
	base := filepath.Join(s.dir, "exec-"+strconv.Itoa(n))
	if err := writeJSON(base+".json", process(req.Command, mergeEnv(s.bundle.Env, req.Env), cwd, s.limits.Pids)); err != nil {
		return 0, err
	}
	defer func() { _ = os.Remove(base + ".json") }()
	fifo, err := newPIDFIFO(base + ".pid")
	if err != nil {
		return 0, err
	}
	defer fifo.close()

	root := filepath.Join(s.dir, runscRoot)
	cmd := exec.Command(s.d.runsc.path, s.d.runsc.args(root, //nolint:gosec // G204: runsc is the configured runtime
		"exec", "--process", base+".json", "--internal-pid-file", fifo.path, s.id)...)
	cmd.Env = []string{}
	gate := &startGate{w: req.Stderr}
	tail := tailbuf.New(stderrTailN, gate)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = req.Stdin, req.Stdout, tail
	cmd.WaitDelay = ioDrain
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start runsc exec: %w", err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	started := make(chan int, 1) // the command's pid inside the sandbox, once it exists
	go func() {
		if pid, ok := <-fifo.pid; ok {
			gate.release()
			started <- pid
		}
		close(started)
	}()

	select {
	case <-exited:
	case <-ctx.Done():
		s.killExec(root, started, cmd, exited)
		return 0, ctx.Err()
	}
	status := runscStatus(waitErr)
	if status == runscFailure {
		if msg := runscError(tail.String(), execFailed); msg != "" {
			gate.drop()
			if strings.Contains(msg, "failed to load") {
				return 0, fmt.Errorf("%w: %s", errdefs.ErrInvalidArgument, msg)
			}
			return 0, fmt.Errorf("runsc exec: %s", msg)
		}
	}
	gate.release()
	if status >= 0 {
		return status, nil
	}
	return 0, fmt.Errorf("runsc exec: %w", waitErr)
}

// killExec kills a cancelled command inside the sandbox by its sandbox pid (SIGKILL to
// runsc exec would only orphan it), then waits for runsc exec to return.
func (s *gvSandbox) killExec(root string, started <-chan int, cmd *exec.Cmd, exited <-chan struct{}) {
	ctx, cancel := context.WithTimeout(context.Background(), execKillWait)
	defer cancel()
	select {
	case pid, ok := <-started:
		if ok {
			_ = s.d.runsc.run(ctx, root, "kill", "--pid", strconv.Itoa(pid), s.id, "KILL")
		}
	case <-exited:
		return
	case <-ctx.Done():
	}
	select {
	case <-exited:
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-exited
	}
}

// mergeEnv appends extra to env; an entry of extra replaces env's entry of the same name.
func mergeEnv(env, extra []string) []string {
	out := make([]string, 0, len(env)+len(extra))
	seen := map[string]int{}
	for _, kv := range append(append([]string{}, env...), extra...) {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := seen[k]; ok {
			out[i] = kv
			continue
		}
		seen[k] = len(out)
		out = append(out, kv)
	}
	return out
}

var _ sandbox.Execer = (*gvSandbox)(nil)
