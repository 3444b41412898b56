package microvm

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"time"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/image"
	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/sandbox/microvm/guestapi"
	"berth.dev/berth/internal/sandbox/rootfs"
)

// This file holds the host's requests on a VM's control channel; readControl delivers
// the guest's answers to them.

// startAgent sends Start and waits for the guest's answer.
func (s *vmSandbox) startAgent(ctx context.Context, spec sandbox.Spec) error {
	pids, disk := s.d.guestLimits(spec, s.shape)
	start := &guestapi.Start{
		Argv:         spec.Command,
		Env:          spec.Env,
		WorkDir:      spec.WorkDir,
		UID:          rootfs.SandboxUID,
		GID:          rootfs.SandboxGID,
		Token:        s.token,
		Entropy:      entropy(),
		TimeUnixNano: time.Now().UnixNano(),
		Pids:         pids,
		DiskBytes:    disk,
		Network:      guestNetwork(spec.Network.Mode, s.network),
	}
	if spec.CodeDir != "" {
		start.CodeMount = codeMount(spec)
	}
	m, err := s.request(ctx, guestapi.Message{Type: guestapi.TypeStart, Start: start})
	if err != nil {
		return fmt.Errorf("start agent: %w", err)
	}
	if m.Type == guestapi.TypeStartFailed {
		if m.BadProgram {
			hint := ""
			if spec.RootFS == "" {
				hint = " (a code zip on the microvm driver runs on its base root filesystem, which holds Python 3.11, " +
					"a shell and the basic commands only: deploy this agent as a container image, or use the linuxns or gvisor driver)"
			}
			return fmt.Errorf("start agent: %w: %s%s", errdefs.ErrInvalidArgument, m.Error, hint)
		}
		return fmt.Errorf("start agent: %s", m.Error)
	}
	s.setClock()
	return nil
}

// setClock sends the guest the time again, now that it answers promptly (Clock).
func (s *vmSandbox) setClock() {
	b, err := json.Marshal(guestapi.Message{Type: guestapi.TypeClock, TimeUnixNano: time.Now().UnixNano()})
	if err == nil {
		_ = s.ctl.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = s.ctl.Write(append(b, '\n'))
		_ = s.ctl.SetWriteDeadline(time.Time{})
	}
}

// codeMount is where the code disk of spec is mounted: its working directory.
func codeMount(spec sandbox.Spec) string { return image.SandboxWorkDir(spec.WorkDir, true) }

// pause asks the guest to hold back the agent's messages before a snapshot; when it
// returns, every message the guest sent before is read.
func (s *vmSandbox) pause(ctx context.Context) error {
	if _, err := s.request(ctx, guestapi.Message{Type: guestapi.TypePause}); err != nil {
		return fmt.Errorf("pause: %w", err)
	}
	return nil
}

// resume makes a clone of an agent snapshot this sandbox's own: the guest reseeds its
// randomness, sets its clock, and takes this sandbox's relay token.
func (s *vmSandbox) resume(ctx context.Context) error {
	m, err := s.request(ctx, guestapi.Message{Type: guestapi.TypeResume, Resume: &guestapi.Resume{
		Token: s.token, Entropy: entropy(), TimeUnixNano: time.Now().UnixNano(),
	}})
	if err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	if m.Error != "" {
		return fmt.Errorf("resume: %s", m.Error)
	}
	s.setClock()
	return nil
}

// forward asks the guest to relay one more loopback port of the agent's to the gateway.
func (s *vmSandbox) forward(ctx context.Context, f guestapi.Forward) error {
	m, err := s.request(ctx, guestapi.Message{Type: guestapi.TypeForward, Forward: &f})
	if err != nil {
		return fmt.Errorf("microvm: forward %s: %w", f.Addr, err)
	}
	if m.Error != "" {
		return fmt.Errorf("microvm: forward %s: %s", f.Addr, m.Error)
	}
	return nil
}

// request sends m and waits for the guest's answer, one request at a time.
func (s *vmSandbox) request(ctx context.Context, m guestapi.Message) (guestapi.Message, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return guestapi.Message{}, err
	}
	s.requestMu.Lock()
	defer s.requestMu.Unlock()
	select {
	case <-s.replies: // the late answer to an earlier request whose caller gave up
	default:
	}
	if d, ok := ctx.Deadline(); ok {
		_ = s.ctl.SetWriteDeadline(d)
	}
	if _, err := s.ctl.Write(append(b, '\n')); err != nil {
		return guestapi.Message{}, fmt.Errorf("send %s: %w", m.Type, err)
	}
	_ = s.ctl.SetWriteDeadline(time.Time{})
	select {
	case r := <-s.replies:
		return r, nil
	case <-s.done:
		return guestapi.Message{}, s.exitErr.Load()
	case <-ctx.Done():
		return guestapi.Message{}, ctx.Err()
	}
}

// entropy is fresh randomness for the guest's pool.
func entropy() []byte {
	b := make([]byte, 64)
	_, _ = rand.Read(b)
	return b
}
