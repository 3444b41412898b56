package vmm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"berth.dev/berth/internal/tailbuf"
)

// QEMU starts VMs with qemu-system-x86_64 -M microvm.
type QEMU struct {
	// Binary is the QEMU executable; "" means qemu-system-x86_64 from PATH.
	Binary string
}

var _ VMM = (*QEMU)(nil)

// portAttempts bounds retries when a picked free host port is taken before QEMU binds it.
const portAttempts = 4

// Start implements VMM.
func (q *QEMU) Start(ctx context.Context, cfg Config) (Machine, error) {
	if cfg.Dir == "" || cfg.Kernel == "" {
		return nil, errors.New("qemu: Config.Dir and Config.Kernel are required")
	}
	var err error
	for range portAttempts {
		var m *qemuMachine
		m, err = q.start(ctx, cfg)
		if err == nil {
			return m, nil
		}
		if !errors.Is(err, errPortTaken) {
			break
		}
	}
	return nil, err
}

var errPortTaken = errors.New("host port taken")

// qemuMachine is one QEMU process.
type qemuMachine struct {
	cmd      *exec.Cmd
	qmp      *QMP
	channels map[string]net.Conn
	ports    map[int]int // guest → host
	stderr   *tailbuf.Buffer
	dir      string // Config.Dir
	done     chan struct{}
	err      error // set before done closes
	killOnce sync.Once
}

func (q *QEMU) start(ctx context.Context, cfg Config) (m *qemuMachine, err error) {
	bin := q.Binary
	if bin == "" {
		bin = "qemu-system-x86_64"
	}
	m = &qemuMachine{
		channels: map[string]net.Conn{},
		ports:    map[int]int{},
		stderr:   tailbuf.New(16<<10, nil),
		done:     make(chan struct{}),
	}
	if cfg, err = absPaths(cfg); err != nil {
		return nil, fmt.Errorf("qemu: %w", err)
	}
	// Every socket is one we listen on and QEMU connects to when it starts. A unix socket
	// path holds at most 107 bytes, which a deep Dir exceeds: both ends go through a
	// descriptor of Dir that this process holds (see listenIn).
	dir, err := os.Open(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("qemu: %w", err)
	}
	defer func() { _ = dir.Close() }()
	listeners := map[string]*net.UnixListener{}
	defer func() {
		for _, ln := range listeners {
			_ = ln.Close() // also removes the socket file
		}
	}()
	m.dir = cfg.Dir
	listen := func(name string) (string, error) {
		ln, qemuPath, err := listenIn(dir, name+".sock")
		if err != nil {
			return "", fmt.Errorf("qemu: %w", err)
		}
		listeners[name] = ln
		return qemuPath, nil
	}
	qmpPath, err := listen("qmp")
	if err != nil {
		return nil, err
	}
	chanPaths := make([]string, len(cfg.Channels))
	for i := range cfg.Channels {
		if chanPaths[i], err = listen("ch" + strconv.Itoa(i)); err != nil {
			return nil, err
		}
	}
	if cfg.Net != nil {
		for _, f := range cfg.Net.Forwards {
			port := f.HostPort
			if port == 0 {
				if port, err = freePort(cfg.NetNS, f.HostAddr); err != nil {
					return nil, err
				}
			}
			m.ports[f.GuestPort] = port
		}
	}
	args := qemuArgs(cfg, qmpPath, chanPaths, m.ports)
	m.cmd = exec.Command(bin, args...)
	m.cmd.Env = append(os.Environ(), DirEnv+"="+cfg.Dir)
	m.cmd.Stdin = nil
	m.cmd.Stdout = cfg.Console
	if cfg.Console == nil {
		m.cmd.Stdout = io.Discard
	}
	m.cmd.Stderr = m.stderr
	// QEMU dies with us; Reclaim handles what a crash leaves anyway. (Strictly, with the
	// thread that forks it: in cfg.NetNS one of NetNS.Do's, which outlives the call unless
	// it cannot leave the namespace again.)
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL}
	if err := inNetNS(cfg.NetNS, m.cmd.Start); err != nil {
		return nil, fmt.Errorf("qemu: %w", err)
	}
	go func() {
		werr := m.cmd.Wait()
		if werr != nil {
			werr = fmt.Errorf("%w: %w: %s", ErrExited, werr, strings.TrimSpace(m.stderr.String()))
		} else {
			werr = fmt.Errorf("%w: %s", ErrExited, strings.TrimSpace(m.stderr.String()))
		}
		m.err = werr
		close(m.done)
	}()
	defer func() {
		if err != nil {
			_ = m.Kill()
			if msg := strings.TrimSpace(m.stderr.String()); msg != "" && !strings.Contains(err.Error(), msg) {
				err = fmt.Errorf("%w (qemu: %s)", err, msg)
			}
			if strings.Contains(m.stderr.String(), "host forwarding rule") {
				err = fmt.Errorf("%w: %w", errPortTaken, err)
			}
		}
	}()
	conn, err := m.accept(ctx, listeners["qmp"])
	if err != nil {
		return m, fmt.Errorf("qemu: connect qmp: %w", err)
	}
	if m.qmp, err = NewQMP(ctx, conn); err != nil {
		_ = conn.Close()
		return m, fmt.Errorf("qemu: %w", err)
	}
	for i, name := range cfg.Channels {
		c, err := m.accept(ctx, listeners["ch"+strconv.Itoa(i)])
		if err != nil {
			return m, fmt.Errorf("qemu: connect channel %s: %w", name, err)
		}
		m.channels[name] = c
	}
	for name, ln := range listeners {
		_ = ln.Close()
		delete(listeners, name)
	}
	if cfg.Restore != "" {
		if err := m.restore(ctx, cfg); err != nil {
			return m, err
		}
	}
	return m, nil
}

// listenIn listens on a unix socket named file in the open directory dir, and returns the
// short path by which QEMU reaches it: /proc/<this process>/fd/<dir's descriptor>/file
// (QEMU runs as the same user), so that the directory's path may be of any length while
// dir stays open. Closing the listener removes the socket file.
func listenIn(dir *os.File, file string) (ln *net.UnixListener, qemuPath string, err error) {
	fd := strconv.Itoa(int(dir.Fd()))
	p := "/proc/self/fd/" + fd + "/" + file
	_ = os.Remove(p)
	if ln, err = net.ListenUnix("unix", &net.UnixAddr{Name: p, Net: "unix"}); err != nil {
		return nil, "", err
	}
	return ln, "/proc/" + strconv.Itoa(os.Getpid()) + "/fd/" + fd + "/" + file, nil
}

// accept waits for QEMU to connect to ln, or to exit, or for ctx.
func (m *qemuMachine) accept(ctx context.Context, ln *net.UnixListener) (net.Conn, error) {
	stop := context.AfterFunc(ctx, func() { _ = ln.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	exited := make(chan struct{})
	defer close(exited)
	go func() {
		select {
		case <-m.done:
			_ = ln.SetDeadline(time.Unix(1, 0))
		case <-exited:
		}
	}()
	c, err := ln.Accept()
	if err != nil {
		select {
		case <-m.done:
			return nil, m.err
		default:
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	return c, nil
}

func qemuArgs(cfg Config, qmpPath string, chanPaths []string, ports map[int]int) []string {
	machine := "microvm,x-option-roms=off,isa-serial=on,acpi=off"
	if cfg.Memory != nil {
		machine += ",memory-backend=ram0"
	}
	cpus, mem := max(cfg.CPUs, 1), max(cfg.MemoryMB, 64)
	args := []string{"-M", machine}
	if cfg.Accel == AccelKVM {
		args = append(args, "-accel", "kvm", "-cpu", "host")
	} else {
		args = append(args, "-accel", "tcg", "-cpu", "max")
	}
	args = append(args,
		"-m", strconv.Itoa(mem), "-smp", strconv.Itoa(cpus),
		"-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
		"-serial", "stdio",
		"-kernel", cfg.Kernel, "-append", cfg.Cmdline,
		"-chardev", "socket,id=qmp,path="+qmpPath, "-mon", "chardev=qmp,mode=control",
	)
	if cfg.Initrd != "" {
		args = append(args, "-initrd", cfg.Initrd)
	}
	if cfg.Memory != nil {
		share := "off"
		if cfg.Memory.Shared {
			share = "on"
		}
		args = append(args, "-object", fmt.Sprintf("memory-backend-file,id=ram0,size=%dM,mem-path=%s,share=%s",
			mem, commaEscape(cfg.Memory.Path), share))
	}
	for i, d := range cfg.Disks {
		drive := fmt.Sprintf("id=disk%d,file=%s,format=raw,if=none", i, commaEscape(d.Path))
		if d.ReadOnly {
			drive += ",readonly=on"
		}
		args = append(args, "-drive", drive,
			"-device", fmt.Sprintf("virtio-blk-device,drive=disk%d,serial=%s", i, d.Serial))
	}
	if cfg.Net != nil {
		restrict := "on"
		if cfg.Net.Unrestricted {
			restrict = "off"
		}
		netdev := "user,id=net0,restrict=" + restrict + ",ipv6=off"
		for _, f := range cfg.Net.Forwards {
			netdev += fmt.Sprintf(",hostfwd=tcp:%s:%d-:%d", f.HostAddr, ports[f.GuestPort], f.GuestPort)
		}
		args = append(args, "-netdev", netdev, "-device", "virtio-net-device,netdev=net0")
	}
	if len(cfg.Channels) > 0 {
		args = append(args, "-device", fmt.Sprintf("virtio-serial-device,max_ports=%d", len(cfg.Channels)+1))
		for i, name := range cfg.Channels {
			args = append(args,
				"-chardev", fmt.Sprintf("socket,id=ch%d,path=%s", i, chanPaths[i]),
				"-device", fmt.Sprintf("virtserialport,chardev=ch%d,name=%s,nr=%d", i, name, i+1))
		}
	}
	if cfg.RNG {
		args = append(args, "-object", "rng-random,id=rng0,filename=/dev/urandom",
			"-device", "virtio-rng-device,rng=rng0")
	}
	if cfg.Restore != "" {
		args = append(args, "-incoming", "defer")
	}
	return args
}

// absPaths makes the file paths of cfg absolute.
func absPaths(cfg Config) (Config, error) {
	var err error
	abs := func(p *string) {
		if err == nil && *p != "" {
			*p, err = filepath.Abs(*p)
		}
	}
	abs(&cfg.Dir)
	abs(&cfg.Kernel)
	abs(&cfg.Initrd)
	abs(&cfg.Restore)
	cfg.Disks = slices.Clone(cfg.Disks)
	for i := range cfg.Disks {
		abs(&cfg.Disks[i].Path)
	}
	if cfg.Memory != nil {
		mem := *cfg.Memory
		abs(&mem.Path)
		cfg.Memory = &mem
	}
	return cfg, err
}

// commaEscape escapes commas in a QEMU option value.
func commaEscape(s string) string { return strings.ReplaceAll(s, ",", ",,") }

// migrationCaps sets the capabilities used by both ends of a snapshot.
func (m *qemuMachine) migrationCaps(ctx context.Context, ignoreShared bool) error {
	type capability struct {
		Capability string `json:"capability"`
		State      bool   `json:"state"`
	}
	caps := []capability{{"events", true}}
	if ignoreShared {
		caps = append(caps, capability{"x-ignore-shared", true})
	}
	return m.qmp.Execute(ctx, "migrate-set-capabilities", map[string]any{"capabilities": caps}, nil)
}

func (m *qemuMachine) restore(ctx context.Context, cfg Config) error {
	if strings.ContainsRune(cfg.Restore, '\'') {
		return fmt.Errorf("qemu restore: path %q contains a quote", cfg.Restore)
	}
	if err := m.migrationCaps(ctx, cfg.Memory != nil); err != nil {
		return fmt.Errorf("qemu restore: %w", err)
	}
	if err := m.qmp.Execute(ctx, "migrate-incoming", map[string]string{"uri": "exec:cat '" + cfg.Restore + "'"}, nil); err != nil {
		return fmt.Errorf("qemu restore: %w", err)
	}
	ev, err := m.qmp.WaitEvent(ctx, func(e Event) bool {
		return e.Name == "RESUME" || (e.Name == "MIGRATION" && migrationStatus(e) == "failed")
	})
	if err != nil {
		return fmt.Errorf("qemu restore: %w", err)
	}
	if ev.Name != "RESUME" {
		return fmt.Errorf("qemu restore: incoming migration failed: %s", strings.TrimSpace(m.stderr.String()))
	}
	return nil
}

func migrationStatus(e Event) string {
	var d struct {
		Status string `json:"status"`
	}
	_ = json.Unmarshal(e.Data, &d)
	return d.Status
}

// Snapshot implements Machine.
func (m *qemuMachine) Snapshot(ctx context.Context, path string) error {
	if err := m.snapshot(ctx, path); err != nil {
		return fmt.Errorf("qemu snapshot: %w", err)
	}
	return nil
}

// snapshot migrates the VM to a unix socket in its directory and copies the stream into
// path: the file is complete when QEMU closes the stream, which an exec: migration (a
// child writing the file after QEMU reports completion) would not tell.
func (m *qemuMachine) snapshot(ctx context.Context, path string) error {
	dir, err := os.Open(m.dir)
	if err != nil {
		return err
	}
	defer func() { _ = dir.Close() }()
	ln, sock, err := listenIn(dir, "snapshot.sock")
	if err != nil {
		return err
	}
	defer func() { _ = ln.Close() }()
	f, err := os.Create(path) //nolint:gosec // the caller's path
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	if err := m.migrationCaps(ctx, true); err != nil {
		return err
	}
	if err := m.qmp.Execute(ctx, "migrate", map[string]string{"uri": "unix:" + sock}, nil); err != nil {
		return err
	}
	conn, err := m.accept(ctx, ln)
	if err != nil {
		return fmt.Errorf("accept the migration stream: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	copied := make(chan error, 1)
	go func() {
		_, err := io.Copy(f, conn)
		_ = conn.Close()
		copied <- err
	}()
	// fail stops the copy and returns err, with the copy's own error if it had one.
	fail := func(err error) error {
		_ = conn.Close()
		if cerr := <-copied; cerr != nil && !errors.Is(cerr, net.ErrClosed) {
			return errors.Join(err, cerr)
		}
		return err
	}
	ev, err := m.qmp.WaitEvent(ctx, func(e Event) bool {
		s := migrationStatus(e)
		return e.Name == "MIGRATION" && (s == "completed" || s == "failed" || s == "cancelled")
	})
	if err != nil {
		return fail(err)
	}
	if s := migrationStatus(ev); s != "completed" {
		return fail(fmt.Errorf("migration %s: %s", s, strings.TrimSpace(m.stderr.String())))
	}
	if err := <-copied; err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return f.Close()
}

// PID implements Machine.
func (m *qemuMachine) PID() int { return m.cmd.Process.Pid }

// Channel implements Machine.
func (m *qemuMachine) Channel(name string) net.Conn { return m.channels[name] }

// HostPort implements Machine.
func (m *qemuMachine) HostPort(guestPort int) int { return m.ports[guestPort] }

// Done implements Machine.
func (m *qemuMachine) Done() <-chan struct{} { return m.done }

// Err implements Machine.
func (m *qemuMachine) Err() error {
	select {
	case <-m.done:
		return m.err
	default:
		return nil
	}
}

// Kill implements Machine.
func (m *qemuMachine) Kill() error {
	m.killOnce.Do(func() {
		_ = m.cmd.Process.Kill()
	})
	<-m.done
	if m.qmp != nil {
		_ = m.qmp.Close()
	}
	for _, c := range m.channels {
		_ = c.Close()
	}
	return nil
}

// freePort returns a TCP port that was free on addr, in ns, a moment ago.
func freePort(ns interface{ Do(func() error) error }, addr string) (port int, err error) {
	err = inNetNS(ns, func() error {
		ln, err := net.Listen("tcp", net.JoinHostPort(addr, "0"))
		if err != nil {
			return err
		}
		port = ln.Addr().(*net.TCPAddr).Port
		return ln.Close()
	})
	if err != nil {
		return 0, fmt.Errorf("pick a free port: %w", err)
	}
	return port, nil
}

// inNetNS runs fn inside ns, or where the caller is when ns is nil.
func inNetNS(ns interface{ Do(func() error) error }, fn func() error) error {
	if ns == nil {
		return fn()
	}
	return ns.Do(fn)
}
