package linuxns

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/sandbox/cgroup"
	"berth.dev/berth/internal/sandbox/netns"
	"berth.dev/berth/internal/sandbox/rootfs"
	"berth.dev/berth/internal/sandbox/seccomp"
)

// Name is the driver's registry name.
const Name = "linuxns"

// Defaults for limits a Spec and the driver's options leave zero.
const (
	DefaultPids      = 1024
	DefaultDiskBytes = 512 << 20
	DefaultStopGrace = 2 * time.Second
	cgroupParent     = "berth"
)

func init() {
	sandbox.Register(Name, func(o sandbox.Options) (sandbox.Driver, error) {
		return New(Config{StateDir: o.StateDir, DefaultLimits: o.DefaultLimits, Network: o.Network})
	})
}

// Config configures a Driver.
type Config struct {
	// StateDir holds the base root filesystem and one (empty) mount point per sandbox.
	StateDir string
	// DefaultLimits apply where a Spec leaves a limit zero.
	DefaultLimits sandbox.Limits
	// StopGrace is how long Stop waits between SIGTERM and SIGKILL; 0 means
	// DefaultStopGrace.
	StopGrace time.Duration
	// Network provides each sandbox's network namespace for its egress policy; nil gives
	// loopback-only namespaces and supports NetworkNone only.
	Network sandbox.NetworkProvider
}

// Driver starts namespace sandboxes. It is safe for concurrent use.
type Driver struct {
	stateDir string
	baseDir  string
	limits   sandbox.Limits
	grace    time.Duration
	network  sandbox.NetworkProvider
	cgroups  *cgroup.Manager
	cgErr    error
}

// New returns a driver keeping its state under cfg.StateDir. It does not check that the
// host can run sandboxes; Available does.
func New(cfg Config) (*Driver, error) {
	if cfg.StateDir == "" {
		return nil, fmt.Errorf("linuxns driver: %w: empty state directory", errdefs.ErrInvalidArgument)
	}
	dir, err := filepath.Abs(cfg.StateDir)
	if err != nil {
		return nil, fmt.Errorf("linuxns driver: state directory: %w", err)
	}
	if strings.ContainsAny(dir, ",:") {
		return nil, fmt.Errorf("linuxns driver: %w: state directory %s contains ',' or ':', which overlay options cannot carry", errdefs.ErrInvalidArgument, dir)
	}
	if err := os.MkdirAll(filepath.Join(dir, "run"), 0o700); err != nil {
		return nil, fmt.Errorf("linuxns driver: create state directory: %w", err)
	}
	d := &Driver{
		stateDir: dir,
		baseDir:  filepath.Join(dir, "base"),
		limits:   cfg.DefaultLimits,
		grace:    cfg.StopGrace,
		network:  cfg.Network,
	}
	if d.limits.Pids == 0 {
		d.limits.Pids = DefaultPids
	}
	if d.limits.DiskBytes == 0 {
		d.limits.DiskBytes = DefaultDiskBytes
	}
	if d.grace <= 0 {
		d.grace = DefaultStopGrace
	}
	if err := rootfs.EnsureBase(d.baseDir); err != nil {
		return nil, fmt.Errorf("linuxns driver: %w", err)
	}
	d.cgroups, d.cgErr = cgroup.New()
	return d, nil
}

// Name returns "linuxns".
func (d *Driver) Name() string { return Name }

// Capabilities announces namespace isolation, Exec, Reclaim and the egress modes of the
// network provider.
func (d *Driver) Capabilities() sandbox.Capabilities {
	return sandbox.Capabilities{Isolation: "namespaces", Exec: true, Reclaim: true, Egress: sandbox.EgressModes(d.network)}
}

// Available reports what this host lacks to run namespace sandboxes, or nil.
func (d *Driver) Available() error {
	var why []error
	if os.Geteuid() != 0 {
		why = append(why, errors.New("must run as root (mount, PID and network namespaces, cgroups)"))
	}
	if d.cgErr != nil {
		why = append(why, d.cgErr)
	}
	if err := netns.Available(); err != nil {
		why = append(why, fmt.Errorf("network namespaces: %w", err))
	}
	if b, err := os.ReadFile("/proc/filesystems"); err != nil || !strings.Contains(string(b), "\toverlay\n") {
		why = append(why, errors.New("the kernel has no overlay filesystem (modprobe overlay)"))
	}
	if !seccomp.Supported() {
		why = append(why, errors.New("no seccomp filter for this CPU architecture (amd64 only)"))
	}
	if _, err := os.Stat("/proc/self/exe"); err != nil {
		why = append(why, fmt.Errorf("cannot re-execute Berth: %w", err))
	}
	return errors.Join(why...)
}

// Start creates the sandbox and returns once the agent has been exec'd; see the package
// doc. On error nothing is left behind.
func (d *Driver) Start(ctx context.Context, spec sandbox.Spec) (sandbox.Sandbox, error) {
	if err := d.validate(spec); err != nil {
		return nil, fmt.Errorf("start sandbox %s: %w", spec.ID, err)
	}
	if d.cgErr != nil {
		return nil, fmt.Errorf("start sandbox %s: %w: %w", spec.ID, errdefs.ErrUnavailable, d.cgErr)
	}
	sb, err := d.start(ctx, spec)
	if err != nil {
		return nil, fmt.Errorf("start sandbox %s: %w", spec.ID, err)
	}
	return sb, nil
}

func (d *Driver) validate(spec sandbox.Spec) error {
	if err := validID(spec.ID); err != nil {
		return err
	}
	for _, p := range []string{spec.RootFS, spec.CodeDir} {
		if strings.ContainsAny(p, ",:") {
			return fmt.Errorf("%w: path %s contains ',' or ':', which overlay options cannot carry", errdefs.ErrInvalidArgument, p)
		}
	}
	return sandbox.CheckSpec(spec, d.Capabilities().Egress)
}

func validID(id string) error {
	if id == "" || id == "." || id == ".." || strings.ContainsAny(id, "/\x00,:") {
		return fmt.Errorf("%w: %q is not a valid sandbox id", errdefs.ErrInvalidArgument, id)
	}
	return nil
}

// limitsFor fills a Spec's zero limits from the driver's defaults.
func (d *Driver) limitsFor(spec sandbox.Spec) sandbox.Limits { return spec.Limits.Or(d.limits) }

// sessionDir is the sandbox's (empty, on the host) mount point for its writable layers.
func (d *Driver) sessionDir(id string) string { return filepath.Join(d.stateDir, "run", id) }

func cgroupName(id string) string { return cgroupParent + "/" + id }

// removeDir removes the sandbox's mount point; it is empty on the host.
func removeDir(dir string) error {
	if err := os.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

var (
	_ sandbox.Driver    = (*Driver)(nil)
	_ sandbox.Reclaimer = (*Driver)(nil)
)

// Packages are what code zips need on the host: the base root filesystem borrows the host's
// interpreters.
func (d *Driver) Packages() []string { return []string{"python3", "nodejs"} }

// Install (re)builds the base root filesystem.
func (d *Driver) Install(_ context.Context, w io.Writer) error {
	if err := rootfs.EnsureBase(d.baseDir); err != nil {
		return err
	}
	fmt.Fprintf(w, "linuxns: base root filesystem ready at %s (host /usr bound read-only)\n", d.baseDir)
	return nil
}

var _ sandbox.Installer = (*Driver)(nil)
