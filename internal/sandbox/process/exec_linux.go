package process

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"time"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/sandbox"
)

// execCleanup bounds how long Exec spends killing what its command left behind.
const execCleanup = 10 * time.Second

// Exec runs req in the sandbox's network namespace, with the sandbox's environment plus
// req.Env (later entries win) and, unless req.WorkDir says otherwise, the agent's working
// directory. The command gets a session of its own; when its main process exits, whatever
// it left running in that session is killed. It returns the exit status, or 128+n if
// signal n killed the command. If ctx ends first the command is killed and ctx's error is
// returned. Stop kills running commands.
func (s *processSandbox) Exec(ctx context.Context, req sandbox.ExecRequest) (int, error) {
	code, err := s.exec(ctx, req)
	if err != nil {
		return -1, fmt.Errorf("exec in sandbox %s: %w", s.id, err)
	}
	return code, nil
}

func (s *processSandbox) exec(ctx context.Context, req sandbox.ExecRequest) (int, error) {
	if len(req.Command) == 0 {
		return 0, fmt.Errorf("%w: empty command", errdefs.ErrInvalidArgument)
	}
	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		return 0, fmt.Errorf("%w: sandbox is stopping", errdefs.ErrConflict)
	}
	s.execWG.Add(1)
	s.mu.Unlock()
	defer s.execWG.Done()

	cwd := s.layout.cwd
	if req.WorkDir != "" {
		cwd = s.layout.hostPath(req.WorkDir)
	}
	env := append(slices.Clone(s.env), req.Env...)
	path, err := s.layout.resolve(req.Command[0], env, cwd)
	if err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	cmd := &exec.Cmd{
		Path:   path,
		Args:   slices.Clone(req.Command),
		Env:    env,
		Dir:    cwd,
		Stdin:  req.Stdin,
		Stdout: req.Stdout,
		Stderr: req.Stderr,
	}
	c, err := startChild(s.ns, cmd)
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	s.execs[c] = struct{}{}
	stopping := s.stopping // Stop began after our check: it may not have seen c
	s.mu.Unlock()

	keep := inSessions(c.pid)
	group := []int{c.pid}
	if stopping {
		_ = terminate(ctx, keep, group, 0)
	}
	select {
	case <-c.exited:
	case <-ctx.Done():
	}
	cleanupCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), execCleanup)
	defer cancel()
	cleanupErr := terminate(cleanupCtx, keep, group, 0) // the command itself if ctx ended, and leftovers
	<-c.exited
	reapErr := c.reap()
	s.mu.Lock()
	delete(s.execs, c)
	s.mu.Unlock()
	switch {
	case ctx.Err() != nil:
		return 0, ctx.Err()
	case cleanupErr != nil:
		return 0, fmt.Errorf("kill leftovers of %s: %w", req.Command[0], cleanupErr)
	case reapErr != nil:
		return 0, reapErr
	}
	if e := c.exitErr; e != nil {
		if e.Signal != 0 {
			return 128 + int(e.Signal), nil
		}
		return e.Code, nil
	}
	return 0, nil
}

var _ sandbox.Execer = (*processSandbox)(nil)
