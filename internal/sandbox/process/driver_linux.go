package process

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/sandbox/netns"
)

// Name is the driver's registry name.
const Name = "process"

// DefaultStopGrace is how long Stop waits between SIGTERM and SIGKILL.
const DefaultStopGrace = 2 * time.Second

func init() {
	sandbox.Register(Name, func(o sandbox.Options) (sandbox.Driver, error) {
		return New(Config{StateDir: o.StateDir})
	})
}

// Config configures a Driver.
type Config struct {
	// StateDir holds one working directory per sandbox; it is created if missing.
	StateDir string
	// StopGrace is how long Stop waits between SIGTERM and SIGKILL; 0 means
	// DefaultStopGrace.
	StopGrace time.Duration
}

// Driver starts process sandboxes. It is safe for concurrent use.
type Driver struct {
	stateDir string
	grace    time.Duration
}

// New returns a driver that keeps its sandboxes' working directories under
// cfg.StateDir.
func New(cfg Config) (*Driver, error) {
	if cfg.StateDir == "" {
		return nil, fmt.Errorf("process driver: %w: empty state directory", errdefs.ErrInvalidArgument)
	}
	dir, err := filepath.Abs(cfg.StateDir)
	if err != nil {
		return nil, fmt.Errorf("process driver: state directory: %w", err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("process driver: create state directory: %w", err)
	}
	grace := cfg.StopGrace
	if grace <= 0 {
		grace = DefaultStopGrace
	}
	return &Driver{stateDir: dir, grace: grace}, nil
}

// Name returns "process".
func (d *Driver) Name() string { return Name }

// Capabilities announces no isolation, Exec, Reclaim and loopback-only networking.
func (d *Driver) Capabilities() sandbox.Capabilities {
	return sandbox.Capabilities{
		Isolation:      "none",
		HostFilesystem: true,
		Exec:           true,
		Reclaim:        true,
		Egress:         []sandbox.NetworkMode{sandbox.NetworkNone},
	}
}

// Available reports whether this process may create network namespaces, which every
// sandbox needs.
func (d *Driver) Available() error {
	if err := netns.Available(); err != nil {
		return fmt.Errorf("process driver needs network namespaces (root or CAP_SYS_ADMIN): %w", err)
	}
	return nil
}

// Start copies the code (if any), creates the network namespace and starts the agent; see
// the package doc for how paths are resolved. On error nothing is left behind.
func (d *Driver) Start(ctx context.Context, spec sandbox.Spec) (sandbox.Sandbox, error) {
	if err := validate(spec); err != nil {
		return nil, fmt.Errorf("start sandbox %s: %w", spec.ID, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("start sandbox %s: %w", spec.ID, err)
	}
	workdir := filepath.Join(d.stateDir, spec.ID)
	if err := os.Mkdir(workdir, 0o750); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("start sandbox %s: %w: %s exists", spec.ID, errdefs.ErrConflict, workdir)
		}
		return nil, fmt.Errorf("start sandbox %s: %w", spec.ID, err)
	}
	sb, err := d.start(ctx, spec, workdir)
	if err != nil {
		_ = os.RemoveAll(workdir)
		return nil, fmt.Errorf("start sandbox %s: %w", spec.ID, err)
	}
	return sb, nil
}

func (d *Driver) start(ctx context.Context, spec sandbox.Spec, workdir string) (*processSandbox, error) {
	if spec.CodeDir != "" {
		if err := copyTree(spec.CodeDir, workdir); err != nil {
			return nil, fmt.Errorf("copy code: %w", err)
		}
	}
	l := newLayout(specPaths{RootFS: spec.RootFS, CodeDir: spec.CodeDir, WorkDir: spec.WorkDir}, workdir)
	env := append([]string{}, spec.Env...) // never nil: nil would inherit Berth's environment
	path, err := l.resolve(spec.Command[0], env, l.cwd)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ns, err := netns.New()
	if err != nil {
		return nil, err
	}
	cmd := &exec.Cmd{
		Path:   path,
		Args:   slices.Clone(spec.Command),
		Env:    env,
		Dir:    l.cwd,
		Stdout: spec.Stdout,
		Stderr: spec.Stderr,
	}
	c, err := startChild(ns, cmd)
	if err != nil {
		_ = ns.Close()
		return nil, err
	}
	return newSandbox(spec.ID, l, env, ns, c, d.grace), nil
}

func validate(spec sandbox.Spec) error {
	if spec.ID == "" || spec.ID == "." || spec.ID == ".." || strings.ContainsAny(spec.ID, "/\x00") {
		return fmt.Errorf("%w: %q is not a valid sandbox id", errdefs.ErrInvalidArgument, spec.ID)
	}
	if len(spec.Command) == 0 || spec.Command[0] == "" {
		return fmt.Errorf("%w: empty command", errdefs.ErrInvalidArgument)
	}
	for _, kv := range spec.Env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" || strings.ContainsRune(kv, 0) {
			return fmt.Errorf("%w: environment entry %q is not KEY=VALUE", errdefs.ErrInvalidArgument, kv)
		}
	}
	switch spec.Network.Mode {
	case "", sandbox.NetworkNone:
	default:
		return fmt.Errorf("%w: network mode %s is not supported by the process driver (only %s)", errdefs.ErrInvalidArgument, spec.Network.Mode, sandbox.NetworkNone)
	}
	return nil
}

var (
	_ sandbox.Driver    = (*Driver)(nil)
	_ sandbox.Reclaimer = (*Driver)(nil)
)
