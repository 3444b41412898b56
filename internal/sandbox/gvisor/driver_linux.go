package gvisor

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
	"berth.dev/berth/internal/image"
	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/sandbox/cgroup"
	"berth.dev/berth/internal/sandbox/netns"
	"berth.dev/berth/internal/sandbox/rootfs"
)

// Name is the driver's registry name.
const Name = "gvisor"

// Defaults for limits a Spec and the driver's options leave zero, and for Stop.
const (
	DefaultPids      = 1024
	DefaultDiskBytes = 512 << 20
	DefaultStopGrace = 2 * time.Second
)

func init() {
	sandbox.Register(Name, func(o sandbox.Options) (sandbox.Driver, error) {
		return New(Config{StateDir: o.StateDir, DefaultLimits: o.DefaultLimits, Network: o.Network})
	})
}

// Config configures a Driver.
type Config struct {
	// StateDir holds the base root filesystem and one directory per sandbox (its bundle
	// and runsc's state).
	StateDir string
	// DefaultLimits apply where a Spec leaves a limit zero.
	DefaultLimits sandbox.Limits
	// RunscPath is the runsc binary; "" looks on $PATH, then in /usr/bin and /usr/sbin.
	RunscPath string
	// Platform is runsc's --platform ("ptrace", "systrap", "kvm"); "" keeps runsc's
	// default (ptrace for Debian's 2022 build).
	Platform string
	// StopGrace is how long Stop waits between SIGTERM and SIGKILL; 0 means
	// DefaultStopGrace.
	StopGrace time.Duration
	// Network provides each sandbox's network namespace for its egress policy; nil gives
	// loopback-only namespaces and supports NetworkNone only.
	Network sandbox.NetworkProvider
}

// Driver starts gVisor sandboxes. It is safe for concurrent use.
type Driver struct {
	stateDir string // StateDir/sandboxes: one directory per sandbox
	baseDir  string
	limits   sandbox.Limits
	grace    time.Duration
	network  sandbox.NetworkProvider
	runsc    *runsc // nil if runsc was not found
	runscErr error
	cgroups  *cgroup.Manager
	cgErr    error
}

// New returns a driver keeping its state under cfg.StateDir. It does not check that the
// host can run sandboxes; Available does.
func New(cfg Config) (*Driver, error) {
	if cfg.StateDir == "" {
		return nil, fmt.Errorf("gvisor driver: %w: empty state directory", errdefs.ErrInvalidArgument)
	}
	dir, err := filepath.Abs(cfg.StateDir)
	if err != nil {
		return nil, fmt.Errorf("gvisor driver: state directory: %w", err)
	}
	d := &Driver{
		stateDir: filepath.Join(dir, "sandboxes"),
		baseDir:  filepath.Join(dir, "base"),
		limits:   cfg.DefaultLimits,
		grace:    cfg.StopGrace,
		network:  cfg.Network,
	}
	if err := os.MkdirAll(d.stateDir, 0o700); err != nil {
		return nil, fmt.Errorf("gvisor driver: create state directory: %w", err)
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
		return nil, fmt.Errorf("gvisor driver: %w", err)
	}
	if path, err := findRunsc(cfg.RunscPath); err != nil {
		d.runscErr = err
	} else {
		d.runsc = &runsc{path: path, platform: cfg.Platform}
	}
	d.cgroups, d.cgErr = cgroup.New()
	return d, nil
}

// Name returns "gvisor".
func (d *Driver) Name() string { return Name }

// Capabilities announces gVisor isolation, Exec, Reclaim and the egress modes of the
// network provider (loopback only without one).
func (d *Driver) Capabilities() sandbox.Capabilities {
	return sandbox.Capabilities{Isolation: "gvisor", Exec: true, Reclaim: true, Egress: sandbox.EgressModes(d.network)}
}

// Available reports what this host lacks to run gVisor sandboxes (runsc, root, cgroups,
// network namespaces), or nil.
func (d *Driver) Available() error {
	var why []error
	if d.runscErr != nil {
		why = append(why, d.runscErr)
	} else if err := d.runsc.probe(); err != nil {
		why = append(why, err)
	}
	if os.Geteuid() != 0 {
		why = append(why, errors.New("must run as root (runsc, network namespaces, cgroups)"))
	}
	if d.cgErr != nil {
		why = append(why, d.cgErr)
	}
	if err := netns.Available(); err != nil {
		why = append(why, fmt.Errorf("network namespaces: %w", err))
	}
	if err := errors.Join(why...); err != nil {
		return fmt.Errorf("gvisor driver: %w", err)
	}
	return nil
}

// Packages lists the Debian packages the driver needs: runsc (Packages is what `berth
// setup` installs and `berth doctor` reports). Code zips also borrow the host's
// interpreters (python3, nodejs) through the base root filesystem.
func (d *Driver) Packages() []string { return []string{AptPackage, "python3", "nodejs"} }

// Install (re)builds the base root filesystem and checks that runsc works.
func (d *Driver) Install(_ context.Context, w io.Writer) error {
	if err := rootfs.EnsureBase(d.baseDir); err != nil {
		return fmt.Errorf("gvisor driver: %w", err)
	}
	if d.runscErr != nil {
		return fmt.Errorf("gvisor driver: %w", d.runscErr)
	}
	if err := d.runsc.probe(); err != nil {
		return fmt.Errorf("gvisor driver: %w", err)
	}
	fmt.Fprintf(w, "gvisor: using %s (%s); base root filesystem ready at %s\n", d.runsc.path, d.runsc.overlay, d.baseDir)
	return nil
}

// Start creates the sandbox and returns once runsc has created it; see the package doc.
// On error nothing is left behind.
func (d *Driver) Start(ctx context.Context, spec sandbox.Spec) (sandbox.Sandbox, error) {
	if err := d.validate(spec); err != nil {
		return nil, fmt.Errorf("start sandbox %s: %w", spec.ID, err)
	}
	if err := d.Available(); err != nil {
		return nil, fmt.Errorf("start sandbox %s: %w: %w", spec.ID, errdefs.ErrUnavailable, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("start sandbox %s: %w", spec.ID, err)
	}
	if err := d.checkTrees(spec); err != nil {
		return nil, fmt.Errorf("start sandbox %s: %w", spec.ID, err)
	}
	dir := d.sandboxDir(spec.ID)
	if err := os.Mkdir(dir, 0o700); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("start sandbox %s: %w: %s exists", spec.ID, errdefs.ErrConflict, dir)
		}
		return nil, fmt.Errorf("start sandbox %s: %w", spec.ID, err)
	}
	sb, err := d.start(ctx, spec, dir)
	if err != nil {
		return nil, fmt.Errorf("start sandbox %s: %w", spec.ID, err)
	}
	return sb, nil
}

func (d *Driver) validate(spec sandbox.Spec) error {
	if err := validID(spec.ID); err != nil {
		return err
	}
	return sandbox.CheckSpec(spec, d.Capabilities().Egress)
}

// validID accepts ids that are safe as a directory name and as a runsc container id.
func validID(id string) error {
	if id == "" || id == "." || id == ".." || len(id) > 200 || strings.ContainsAny(id, "/\x00") || strings.HasPrefix(id, "-") {
		return fmt.Errorf("%w: %q is not a valid sandbox id", errdefs.ErrInvalidArgument, id)
	}
	for _, r := range id {
		if !idChar(r) {
			return fmt.Errorf("%w: %q is not a valid sandbox id (letters, digits and -_.+ only)", errdefs.ErrInvalidArgument, id)
		}
	}
	return nil
}

// checkTrees checks that the root filesystem and the code tree are directories the sandbox
// user may enter. gVisor checks permissions itself, as that user, on the tree as it is on
// the host (an overlay in the kernel would take the root's mode from its upper layer
// instead), so a tree made with os.MkdirTemp (mode 0700) fails inside with EACCES.
func (d *Driver) checkTrees(spec sandbox.Spec) error {
	root := spec.RootFS
	if root == "" {
		root = d.baseDir
	}
	for what, dir := range map[string]string{"root filesystem": root, "code directory": spec.CodeDir} {
		if dir == "" {
			continue
		}
		fi, err := os.Stat(dir)
		if err != nil {
			return fmt.Errorf("%w: %s: %w", errdefs.ErrInvalidArgument, what, err)
		}
		if !fi.IsDir() {
			return fmt.Errorf("%w: %s %s is not a directory", errdefs.ErrInvalidArgument, what, dir)
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("%w: %s %s has mode %v: the sandbox user (uid %d) cannot enter it, and gVisor checks permissions as that user; make its top directory world-searchable (chmod 755)",
				errdefs.ErrInvalidArgument, what, dir, fi.Mode().Perm(), rootfs.SandboxUID)
		}
	}
	return nil
}

func idChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.+", r)
}

// limitsFor fills a Spec's zero limits from the driver's defaults.
func (d *Driver) limitsFor(spec sandbox.Spec) sandbox.Limits { return spec.Limits.Or(d.limits) }

// bundleFor describes the sandbox's bundle.
func (d *Driver) bundleFor(spec sandbox.Spec, l sandbox.Limits, network sandbox.Network) bundleSpec {
	b := bundleSpec{
		Root:    spec.RootFS,
		CodeDir: spec.CodeDir,
		WorkDir: spec.WorkDir,
		Argv:    spec.Command,
		Env:     append(append([]string{}, spec.Env...), network.Env()...),
		NetNS:   network.Path(),
		Cgroup:  "/" + cgroupName(spec.ID),
		Limits:  l,
	}
	if d.runsc.seccomp {
		b.Seccomp = seccompSpec()
	}
	if b.Root == "" {
		b.Root = d.baseDir
		b.Binds = rootfs.HostBinds()
	}
	b.WorkDir = image.SandboxWorkDir(b.WorkDir, spec.CodeDir != "")
	return b
}

// sandboxDir holds one sandbox's bundle, runsc state and pid files.
func (d *Driver) sandboxDir(id string) string { return filepath.Join(d.stateDir, id) }

var (
	_ sandbox.Driver    = (*Driver)(nil)
	_ sandbox.Reclaimer = (*Driver)(nil)
	_ sandbox.Installer = (*Driver)(nil)
)
