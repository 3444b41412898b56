package microvm

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/sandbox/microvm/guestapi"
	"berth.dev/berth/internal/sandbox/rootfs"
	"berth.dev/berth/internal/tailbuf"
	"berth.dev/berth/internal/vmm"
)

// Start implements sandbox.Driver: it restores a VM from the template snapshot of the
// spec's disks and size (building the disks and the template on first use), then starts
// the agent in it, and returns once the agent process runs.
func (d *Driver) Start(ctx context.Context, spec sandbox.Spec) (sandbox.Sandbox, error) {
	if spec.ID == "" || strings.ContainsAny(spec.ID, "/\x00") || spec.ID == "." || spec.ID == ".." {
		return nil, fmt.Errorf("microvm: %w: bad sandbox id %q", errdefs.ErrInvalidArgument, spec.ID)
	}
	if len(spec.Command) == 0 {
		return nil, fmt.Errorf("microvm: %w: empty command", errdefs.ErrInvalidArgument)
	}
	if m := spec.Network.Mode; m != "" && m != sandbox.NetworkNone {
		return nil, fmt.Errorf("microvm: %w: network mode %s (only %s)", errdefs.ErrInvalidArgument, m, sandbox.NetworkNone)
	}
	accel, err := d.accelerator()
	if err != nil {
		return nil, fmt.Errorf("microvm: %w", err)
	}
	sh, err := d.shapeOf(ctx, spec, accel)
	if err != nil {
		return nil, fmt.Errorf("microvm: %w", err)
	}
	tmpl, err := d.template(ctx, sh)
	if err != nil {
		return nil, fmt.Errorf("microvm: %w", err)
	}
	dir := filepath.Join(d.cfg.StateDir, spec.ID)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, fmt.Errorf("microvm: sandbox directory: %w", err)
	}
	s, err := d.restore(ctx, spec, sh, tmpl, dir)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("microvm: %w", err)
	}
	return s, nil
}

// shapeOf prepares the disks of spec and sizes its VM.
func (d *Driver) shapeOf(ctx context.Context, spec sandbox.Spec, accel vmm.Accel) (shape, error) {
	initrd, err := d.initramfs()
	if err != nil {
		return shape{}, err
	}
	sh := shape{accel: accel, initrd: initrd}
	tree := spec.RootFS
	if tree == "" {
		if tree, err = d.baseRoot(ctx); err != nil {
			return shape{}, err
		}
	}
	if sh.rootDisk, err = d.diskImage(ctx, tree); err != nil {
		return shape{}, err
	}
	if spec.CodeDir != "" {
		if sh.codeDisk, err = d.diskImage(ctx, spec.CodeDir); err != nil {
			return shape{}, err
		}
	}
	lim := spec.Limits
	mem := lim.MemoryBytes
	if mem == 0 {
		mem = d.cfg.DefaultLimits.MemoryBytes
	}
	if mem == 0 {
		mem = DefaultMemoryBytes
	}
	sh.memMB = max(int((mem+(1<<20)-1)>>20), minMemoryMB)
	cpus := lim.CPUs
	if cpus == 0 {
		cpus = d.cfg.DefaultLimits.CPUs
	}
	sh.cpus = min(max(int(math.Ceil(cpus)), 1), runtime.NumCPU())
	return sh, nil
}

// restore starts a clone of tmpl for spec in dir and starts its agent.
func (d *Driver) restore(ctx context.Context, spec sandbox.Spec, sh shape, tmpl *template, dir string) (*vmSandbox, error) {
	cfg := d.vmConfig(sh)
	cfg.Dir = dir
	cfg.Memory = &vmm.MemoryFile{Path: tmpl.ram}
	cfg.Restore = tmpl.state
	console := tailbuf.New(8<<10, nil)
	cfg.Console = console
	t0 := time.Now()
	m, err := d.vmm.Start(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	t1 := time.Now()
	s := newSandbox(d, spec, dir, m, console)
	if err := s.startAgent(ctx, spec); err != nil {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		_ = s.Stop(stopCtx)
		return nil, err
	}
	d.log.DebugContext(ctx, "microvm sandbox started", "id", spec.ID, "pid", m.PID(),
		"restore", t1.Sub(t0), "agent_start", time.Since(t1))
	return s, nil
}

// startAgent sends Start and waits for the guest's answer.
func (s *vmSandbox) startAgent(ctx context.Context, spec sandbox.Spec) error {
	entropy := make([]byte, 64)
	_, _ = rand.Read(entropy)
	start := &guestapi.Start{
		Argv:         spec.Command,
		Env:          spec.Env,
		WorkDir:      spec.WorkDir,
		UID:          rootfs.SandboxUID,
		GID:          rootfs.SandboxGID,
		Token:        s.token,
		Entropy:      entropy,
		TimeUnixNano: time.Now().UnixNano(),
	}
	if spec.CodeDir != "" {
		start.CodeMount = spec.WorkDir
		if start.CodeMount == "" {
			start.CodeMount = "/var/task"
		}
	}
	b, err := json.Marshal(guestapi.Message{Type: guestapi.TypeStart, Start: start})
	if err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok {
		_ = s.ctl.SetWriteDeadline(d)
	}
	if _, err := s.ctl.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("send start: %w", err)
	}
	_ = s.ctl.SetWriteDeadline(time.Time{})
	select {
	case m := <-s.started:
		if m.Type == guestapi.TypeStartFailed {
			return fmt.Errorf("start agent: %s", m.Error)
		}
		return nil
	case <-s.done:
		return fmt.Errorf("start agent: %w", s.ExitErr())
	case <-ctx.Done():
		return fmt.Errorf("start agent: %w", ctx.Err())
	}
}

// ExitError is how a microVM sandbox's agent ended.
type ExitError struct {
	Code   int    // exit status, or -1
	Signal int    // the signal that killed it, if any
	Reason string // for -1 without a signal: what ended the VM
	vmErr  error  // the VMM's error, if the VM died
}

// ExitCode is the exit status, or -1 if the agent did not exit by itself.
func (e *ExitError) ExitCode() int { return e.Code }

func (e *ExitError) Error() string {
	switch {
	case e.Signal != 0:
		return fmt.Sprintf("agent killed by signal %d", e.Signal)
	case e.Code >= 0:
		return fmt.Sprintf("agent exited with status %d", e.Code)
	default:
		return e.Reason
	}
}

// Unwrap returns the VMM's error when the VM died under the agent.
func (e *ExitError) Unwrap() error { return e.vmErr }

// errStopped is the reason of sandboxes ended by Stop or Reclaim.
var errStopped = errors.New("sandbox stopped")
