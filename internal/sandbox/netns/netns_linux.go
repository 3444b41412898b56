package netns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/sandbox"
)

// ErrClosed is returned by the methods of an NS after Close.
var ErrClosed = errors.New("network namespace closed")

const threadNetNS = "/proc/thread-self/ns/net"

// NS is a network namespace that holds only a loopback interface, which is up.
//
// The namespace lives as long as the NS is open or any process or socket inside it
// exists. Methods are safe for concurrent use; Close waits for running Dial and Do calls.
type NS struct {
	mu sync.RWMutex
	fd int // namespace file descriptor; -1 after Close
}

// New creates a loopback-only network namespace. It needs CAP_SYS_ADMIN.
func New() (*NS, error) {
	type result struct {
		fd  int
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		fd, restored, err := create()
		if restored {
			runtime.UnlockOSThread()
		} // else: exit locked, so the runtime discards the thread
		ch <- result{fd, err}
	}()
	r := <-ch
	if r.err != nil {
		return nil, fmt.Errorf("create network namespace: %w", r.err)
	}
	return &NS{fd: r.fd}, nil
}

// create runs on a locked thread. It reports whether the thread is back in its original
// namespace.
func create() (fd int, restored bool, err error) {
	orig, err := unix.Open(threadNetNS, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, true, fmt.Errorf("open current namespace: %w", err)
	}
	defer func() { _ = unix.Close(orig) }()
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		return -1, true, fmt.Errorf("unshare: %w", err)
	}
	fd, err = unix.Open(threadNetNS, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err == nil {
		if err = loopbackUp(); err != nil {
			_ = unix.Close(fd)
		}
	} else {
		err = fmt.Errorf("open new namespace: %w", err)
	}
	if serr := unix.Setns(orig, unix.CLONE_NEWNET); serr != nil {
		if err == nil {
			_ = unix.Close(fd)
		}
		return -1, false, errors.Join(err, fmt.Errorf("restore network namespace: %w", serr))
	}
	if err != nil {
		return -1, true, err
	}
	return fd, true, nil
}

// loopbackUp sets IFF_UP on "lo" in the calling thread's namespace.
func loopbackUp() error {
	s, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("bring lo up: socket: %w", err)
	}
	defer func() { _ = unix.Close(s) }()
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return fmt.Errorf("bring lo up: %w", err)
	}
	if err := unix.IoctlIfreq(s, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bring lo up: get flags: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(s, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bring lo up: set flags: %w", err)
	}
	return nil
}

// Do runs fn on a goroutine whose OS thread is inside the namespace, and returns fn's
// error. Sockets fn creates belong to the namespace, and so does any child process fn
// forks (for example with exec.Cmd.Start). Goroutines that fn starts run elsewhere and are
// not in the namespace. Close waits until fn has returned.
func (n *NS) Do(fn func() error) error {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if n.fd < 0 {
		return ErrClosed
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		restored, err := n.inside(fn)
		if restored {
			runtime.UnlockOSThread()
		} // else: exit locked, so the runtime discards the thread
		errc <- err
	}()
	return <-errc
}

// inside runs fn in the namespace on the current, locked thread. It reports whether the
// thread is back in its original namespace.
func (n *NS) inside(fn func() error) (restored bool, err error) {
	orig, err := unix.Open(threadNetNS, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return true, fmt.Errorf("open current namespace: %w", err)
	}
	defer func() { _ = unix.Close(orig) }()
	if err := unix.Setns(n.fd, unix.CLONE_NEWNET); err != nil {
		return true, fmt.Errorf("enter network namespace: %w", err)
	}
	ferr := fn()
	if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
		return false, errors.Join(ferr, fmt.Errorf("restore network namespace: %w", err))
	}
	return true, ferr
}

// Dial connects to addr from inside the namespace; the connection then works from any
// goroutine. The host of addr must be an IP literal ("127.0.0.1:8080"): name resolution
// would run outside the namespace.
func (n *NS) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s in network namespace: %w: %w", addr, errdefs.ErrInvalidArgument, err)
	}
	if net.ParseIP(host) == nil {
		return nil, fmt.Errorf("dial %s in network namespace: %w: host must be an IP literal", addr, errdefs.ErrInvalidArgument)
	}
	var conn net.Conn
	err = n.Do(func() error {
		// No fast fallback: every socket must be created on this goroutine's thread.
		d := net.Dialer{FallbackDelay: -1}
		var err error
		conn, err = d.DialContext(ctx, network, addr)
		return err
	})
	if err != nil {
		if conn != nil {
			_ = conn.Close()
		}
		return nil, fmt.Errorf("dial %s in network namespace: %w", addr, err)
	}
	return conn, nil
}

// Fd returns the namespace's file descriptor, or -1 after Close. It stays valid until
// Close.
func (n *NS) Fd() int {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.fd
}

// Path returns a path that names the namespace for other tools (nsenter --net=PATH) while
// the NS is open, or "" after Close.
func (n *NS) Path() string {
	fd := n.Fd()
	if fd < 0 {
		return ""
	}
	return fmt.Sprintf("/proc/%d/fd/%d", os.Getpid(), fd)
}

// Close releases the namespace; the kernel frees it once no process or socket uses it.
// It waits for running Dial and Do calls, and is idempotent.
func (n *NS) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.fd < 0 {
		return nil
	}
	err := unix.Close(n.fd)
	n.fd = -1
	if err != nil {
		return fmt.Errorf("close network namespace: %w", err)
	}
	return nil
}

var available = sync.OnceValue(func() error {
	ns, err := New()
	if err != nil {
		return err
	}
	return ns.Close()
})

// Available reports why this process cannot create network namespaces, or nil if it can.
// It tries once and remembers the answer.
func Available() error {
	return available()
}

// Open returns an NS for an existing network namespace file, such as /proc/<pid>/ns/net or
// a bind-mounted namespace. The NS holds its own descriptor; the namespace need not be
// loopback-only.
func Open(path string) (*NS, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open network namespace %s: %w", path, err)
	}
	return &NS{fd: fd}, nil
}

// Listen opens a listener inside the namespace (for example a service Berth offers to one
// sandbox on its own 127.0.0.1); accepting works from any goroutine. As for Dial, the host
// must be an IP literal.
func (n *NS) Listen(network, addr string) (net.Listener, error) {
	return sandbox.ListenIn(n, network, addr)
}

// ListenPacket opens a packet socket (UDP) inside the namespace; see Listen.
func (n *NS) ListenPacket(network, addr string) (net.PacketConn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s in network namespace: %w: %w", addr, errdefs.ErrInvalidArgument, err)
	}
	if host != "" && net.ParseIP(host) == nil {
		return nil, fmt.Errorf("listen on %s in network namespace: %w: host must be an IP literal", addr, errdefs.ErrInvalidArgument)
	}
	var pc net.PacketConn
	err = n.Do(func() error {
		var err error
		pc, err = net.ListenPacket(network, addr)
		return err
	})
	if err != nil {
		if pc != nil {
			_ = pc.Close()
		}
		return nil, fmt.Errorf("listen on %s in network namespace: %w", addr, err)
	}
	return pc, nil
}

// Prepare gives sandbox id its network under policy pol: p's, or, when p is nil, a fresh
// loopback-only namespace (which only NetworkNone asks for; drivers check the mode first).
func Prepare(ctx context.Context, p sandbox.NetworkProvider, id string, pol sandbox.NetworkPolicy) (sandbox.Network, error) {
	if p != nil {
		return p.Prepare(ctx, id, pol)
	}
	ns, err := New()
	if err != nil {
		return nil, err
	}
	return loopbackOnly{ns}, nil
}

// loopbackOnly is a sandbox.Network that needs no agent environment.
type loopbackOnly struct{ *NS }

func (loopbackOnly) Env() []string { return nil }
