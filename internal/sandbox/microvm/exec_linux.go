package microvm

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/sandbox/microvm/guestapi"
)

// Exec implements sandbox.Execer: berth-guest runs the command next to the agent (same
// root, network namespace, user and environment plus req.Env; the agent's working
// directory unless req.WorkDir). Ending ctx closes the relay connection, on which the
// guest kills the command's process group. A goroutine copying req.Stdin may stay blocked
// in its Read until the caller closes Stdin.
func (s *vmSandbox) Exec(ctx context.Context, req sandbox.ExecRequest) (int, error) {
	if len(req.Command) == 0 {
		return -1, errors.New("microvm: exec: empty command")
	}
	c, err := s.relayConn(ctx, guestapi.Hello{Op: guestapi.OpExec, Exec: &guestapi.Exec{
		Argv: req.Command, Env: req.Env, WorkDir: req.WorkDir,
	}})
	if err != nil {
		return -1, fmt.Errorf("microvm: exec: %w", err)
	}
	defer func() { _ = c.Close() }()
	stop := context.AfterFunc(ctx, func() { _ = c.Close() })
	defer stop()

	var wmu sync.Mutex
	send := func(kind byte, b []byte) error {
		wmu.Lock()
		defer wmu.Unlock()
		return guestapi.WriteFrame(c, kind, b)
	}
	if req.Stdin == nil {
		_ = send(guestapi.FrameStdinEOF, nil)
	} else {
		go func() {
			buf := make([]byte, 32<<10)
			for {
				n, err := req.Stdin.Read(buf)
				if n > 0 && send(guestapi.FrameStdin, buf[:n]) != nil {
					return
				}
				if err != nil {
					_ = send(guestapi.FrameStdinEOF, nil)
					return
				}
			}
		}()
	}
	stdout, stderr := req.Stdout, req.Stderr
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	for {
		kind, b, err := guestapi.ReadFrame(c)
		if err != nil {
			if ctx.Err() != nil {
				return -1, ctx.Err()
			}
			return -1, fmt.Errorf("microvm: exec: connection lost: %w", err)
		}
		switch kind {
		case guestapi.FrameStdout:
			if _, err := stdout.Write(b); err != nil {
				return -1, fmt.Errorf("microvm: exec: write stdout: %w", err)
			}
		case guestapi.FrameStderr:
			if _, err := stderr.Write(b); err != nil {
				return -1, fmt.Errorf("microvm: exec: write stderr: %w", err)
			}
		case guestapi.FrameExit:
			if len(b) != 4 {
				return -1, errors.New("microvm: exec: bad exit frame")
			}
			return int(int32(binary.BigEndian.Uint32(b))), nil
		}
	}
}
