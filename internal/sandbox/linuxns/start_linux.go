package linuxns

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/image"
	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/sandbox/cgroup"
	"berth.dev/berth/internal/sandbox/netns"
	"berth.dev/berth/internal/sandbox/rootfs"
)

// ioDrain bounds how long reaping waits for output pipes that a leftover process holds.
const ioDrain = time.Second

func (d *Driver) start(ctx context.Context, spec sandbox.Spec) (_ *nsSandbox, err error) {
	limits := d.limitsFor(spec)
	dir := d.sessionDir(spec.ID)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, fmt.Errorf("mount point: %w", err)
	}
	var undo []func()
	defer func() {
		if err != nil {
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
		}
	}()
	undo = append(undo, func() { _ = removeDir(dir) })

	cg, err := d.cgroups.Create(cgroupName(spec.ID), cgroup.Limits{CPUs: limits.CPUs, MemoryBytes: limits.MemoryBytes, Pids: limits.Pids})
	if err != nil {
		return nil, err
	}
	undo = append(undo, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = cg.Destroy(ctx)
	})
	network, err := netns.Prepare(ctx, d.network, spec.ID, spec.Network)
	if err != nil {
		return nil, fmt.Errorf("network: %w", err)
	}
	undo = append(undo, func() { _ = network.Close() })

	cfg := d.childConfig(spec, limits, dir, network.Env())
	cmd := &exec.Cmd{
		Path:      "/proc/self/exe",
		Args:      []string{initArg},
		Env:       []string{},
		Stdout:    spec.Stdout,
		Stderr:    spec.Stderr,
		WaitDelay: ioDrain,
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags: syscall.CLONE_NEWPID | syscall.CLONE_NEWNS | syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC,
			Setsid:     true,
			Pdeathsig:  syscall.SIGKILL,
		},
	}
	c, err := launch(ctx, network, cmd, cg, cfg)
	if err != nil {
		return nil, err
	}
	return newSandbox(d, spec.ID, c, cg, network, cfg, limits), nil
}

// childConfig is the init configuration of a sandbox.
func (d *Driver) childConfig(spec sandbox.Spec, l sandbox.Limits, dir string, netEnv []string) *childConfig {
	c := &childConfig{
		Lower:      spec.RootFS,
		CodeDir:    spec.CodeDir,
		SessionDir: dir,
		DiskBytes:  l.DiskBytes,
		Hostname:   "sandbox",
		Argv:       spec.Command,
		Env:        append(append([]string{}, spec.Env...), netEnv...),
		WorkDir:    spec.WorkDir,
		UID:        rootfs.SandboxUID,
		GID:        rootfs.SandboxGID,
	}
	if c.Lower == "" {
		c.Lower = d.baseDir
		c.Binds = rootfs.HostBinds()
	}
	c.WorkDir = image.SandboxWorkDir(c.WorkDir, spec.CodeDir != "")
	return c
}

// child is a started sandbox init (or Exec helper) process.
type child struct {
	cmd     *exec.Cmd
	pid     int
	exited  chan struct{}
	waitErr error // set before exited is closed
}

// launch forks cmd from a thread in network, places it in cg, sends cfg and waits until
// the child has exec'd its program (or reports why it could not).
func launch(ctx context.Context, network sandbox.Network, cmd *exec.Cmd, cg *cgroup.Group, cfg *childConfig) (*child, error) {
	cfgR, cfgW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		_, _ = cfgR.Close(), cfgW.Close()
		return nil, err
	}
	defer func() { _, _ = cfgW.Close(), errR.Close() }()
	cmd.ExtraFiles = []*os.File{cfgR, errW}
	err = network.Do(cmd.Start)
	_, _ = cfgR.Close(), errW.Close()
	if err != nil {
		if cmd.Process != nil { // started, but the thread could not leave the namespace
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		return nil, fmt.Errorf("fork sandbox init: %w", err)
	}
	c := &child{cmd: cmd, pid: cmd.Process.Pid, exited: make(chan struct{})}
	go func() {
		c.waitErr = cmd.Wait()
		close(c.exited)
	}()
	fail := func(err error) (*child, error) {
		_ = cmd.Process.Kill()
		<-c.exited
		if c.waitErr != nil && !errors.Is(err, c.waitErr) {
			err = fmt.Errorf("%w (the child ended: %w)", err, c.waitErr)
		}
		return nil, err
	}
	if err := cg.AddProc(c.pid); err != nil {
		return fail(err)
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return fail(err)
	}
	if _, err := cfgW.Write(b); err != nil {
		return fail(fmt.Errorf("send configuration: %w", err))
	}
	_ = cfgW.Close()

	// EOF on the error pipe: the exec happened (the pipe is close-on-exec) or the child died.
	msg := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(errR, 64<<10))
		msg <- b
	}()
	select {
	case b := <-msg:
		if msg, ok := strings.CutPrefix(string(b), badProgramTag); ok {
			return fail(fmt.Errorf("%w: %s", errdefs.ErrInvalidArgument, msg))
		}
		if len(b) > 0 {
			return fail(fmt.Errorf("sandbox init: %s", b))
		}
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-msg
		<-c.exited
		return nil, ctx.Err()
	}
	return c, nil
}
