//go:build linux

package netns_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"
	"golang.org/x/sys/unix"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/sandbox/netns"
)

// checkLeaks fails t if goroutines started during the test outlive its cleanups. Call it
// first: cleanups run last-registered first.
func checkLeaks(t *testing.T) {
	t.Helper()
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}

func newNS(t testing.TB) *netns.NS {
	t.Helper()
	if err := netns.Available(); err != nil {
		t.Skipf("network namespaces unavailable (needs root or CAP_SYS_ADMIN): %v", err)
	}
	ns, err := netns.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ns.Close(); err != nil {
			t.Error(err)
		}
	})
	return ns
}

// listenIn listens on addr inside ns and answers every connection with reply, then closes.
func listenIn(t testing.TB, ns *netns.NS, addr, reply string) net.Listener {
	t.Helper()
	var ln net.Listener
	if err := ns.Do(func() error {
		var err error
		ln, err = net.Listen("tcp", addr)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = io.WriteString(c, reply)
			_ = c.Close()
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
	})
	return ln
}

func readAll(t testing.TB, c net.Conn) string {
	t.Helper()
	defer func() { _ = c.Close() }()
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func nsInode(t testing.TB, path string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

func TestNS_New_LoopbackOnlyAndUp(t *testing.T) {
	checkLeaks(t)
	ns := newNS(t)
	var ifaces []net.Interface
	if err := ns.Do(func() error {
		var err error
		ifaces, err = net.Interfaces()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(ifaces) != 1 || ifaces[0].Name != "lo" {
		t.Fatalf("interfaces in the namespace = %v, want only lo", ifaces)
	}
	if ifaces[0].Flags&net.FlagUp == 0 {
		t.Fatalf("lo flags = %v, want up", ifaces[0].Flags)
	}
	if nsInode(t, ns.Path()) == nsInode(t, "/proc/self/ns/net") {
		t.Fatal("the namespace is the host's")
	}
}

func TestNS_Dial_SamePortInTwoNamespaces(t *testing.T) {
	checkLeaks(t)
	a, b := newNS(t), newNS(t)
	listenIn(t, a, "0.0.0.0:8080", "a")
	listenIn(t, b, "0.0.0.0:8080", "b")
	for _, tc := range []struct {
		ns   *netns.NS
		want string
	}{{a, "a"}, {b, "b"}, {a, "a"}} {
		c, err := tc.ns.Dial(t.Context(), "tcp", "127.0.0.1:8080")
		if err != nil {
			t.Fatal(err)
		}
		if got := readAll(t, c); got != tc.want {
			t.Fatalf("answer = %q, want %q", got, tc.want)
		}
	}
}

func TestNS_Dial_DoesNotReachHost(t *testing.T) {
	checkLeaks(t)
	ns := newNS(t)
	host, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = host.Close() }()
	c, err := ns.Dial(t.Context(), "tcp", host.Addr().String())
	if err == nil {
		_ = c.Close()
		t.Fatal("dial from the namespace reached a host listener")
	}
	if !errors.Is(err, unix.ECONNREFUSED) {
		t.Fatalf("err = %v, want connection refused", err)
	}
}

func TestNS_Dial_Errors(t *testing.T) {
	checkLeaks(t)
	ns := newNS(t)
	closed := newNS(t)
	if err := closed.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		ns   *netns.NS
		addr string
		want error
	}{
		{"hostname", ns, "localhost:8080", errdefs.ErrInvalidArgument},
		{"no port", ns, "127.0.0.1", errdefs.ErrInvalidArgument},
		{"closed", closed, "127.0.0.1:8080", netns.ErrClosed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tc.ns.Dial(t.Context(), "tcp", tc.addr)
			if err == nil {
				_ = c.Close()
				t.Fatal("dial succeeded")
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestNS_Do_ChildInheritsNamespace(t *testing.T) {
	ns := newNS(t)
	var out []byte
	cmd := exec.Command("readlink", "/proc/self/ns/net")
	if err := ns.Do(func() error {
		var err error
		out, err = cmd.Output()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("net:[%d]", nsInode(t, ns.Path()))
	if got := strings.TrimSpace(string(out)); got != want {
		t.Fatalf("child's namespace = %s, want %s", got, want)
	}
}

// Every thread of the process must be back in the host namespace after Dial and Do.
func TestNS_Do_ThreadsReturnToHostNamespace(t *testing.T) {
	ns := newNS(t)
	listenIn(t, ns, "127.0.0.1:8080", "x")
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			c, err := ns.Dial(context.Background(), "tcp", "127.0.0.1:8080")
			if err != nil {
				t.Error(err)
				return
			}
			_ = c.Close()
		})
	}
	wg.Wait()
	host := nsInode(t, "/proc/self/ns/net")
	tasks, err := filepath.Glob("/proc/self/task/*/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range tasks {
		var st unix.Stat_t
		if err := unix.Stat(p, &st); err != nil {
			if errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ENOENT) {
				continue // thread exited meanwhile
			}
			t.Fatal(err)
		}
		if st.Ino != host {
			t.Errorf("%s is in namespace %d, want the host's %d", p, st.Ino, host)
		}
	}
}

func TestNS_Close_Idempotent(t *testing.T) {
	ns := newNS(t)
	for range 2 {
		if err := ns.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if ns.Fd() != -1 || ns.Path() != "" {
		t.Fatalf("after Close: Fd = %d, Path = %q", ns.Fd(), ns.Path())
	}
	if err := ns.Do(func() error { return nil }); !errors.Is(err, netns.ErrClosed) {
		t.Fatalf("Do after Close = %v, want ErrClosed", err)
	}
}

// Measured on the project machine (2 vCPU, kernel 6.18), see the package report:
// BenchmarkNew ≈ the cost of one sandbox's namespace, BenchmarkDial one proxied connection.
func BenchmarkNew(b *testing.B) {
	if err := netns.Available(); err != nil {
		b.Skip(err)
	}
	for b.Loop() {
		ns, err := netns.New()
		if err != nil {
			b.Fatal(err)
		}
		if err := ns.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDial(b *testing.B) {
	ns := newNS(b)
	ln := listenIn(b, ns, "127.0.0.1:0", "")
	addr := ln.Addr().String()
	ctx := context.Background()
	for b.Loop() {
		c, err := ns.Dial(ctx, "tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		_ = c.Close()
	}
}

// BenchmarkDialHost is the baseline for BenchmarkDial: a plain dial on the host.
func BenchmarkDialHost(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	defer func() { _ = ln.Close() }()
	var d net.Dialer
	for b.Loop() {
		c, err := d.DialContext(context.Background(), "tcp", ln.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		_ = c.Close()
	}
}

func TestNS_ListenAndOpen(t *testing.T) {
	checkLeaks(t)
	ns := newNS(t)
	l, err := ns.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	go func() {
		c, err := l.Accept()
		if err == nil {
			_, _ = c.Write([]byte("inside"))
			_ = c.Close()
		}
	}()
	// The listener is not on the host's loopback.
	if c, err := net.Dial("tcp", l.Addr().String()); err == nil {
		_ = c.Close()
		t.Fatalf("host reached %s, which listens inside the namespace", l.Addr())
	}
	// A second handle on the same namespace, opened by path, reaches it.
	other, err := netns.Open(ns.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = other.Close() }()
	c, err := other.Dial(context.Background(), "tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	b, err := io.ReadAll(c)
	if err != nil || string(b) != "inside" {
		t.Fatalf("read %q, %v", b, err)
	}
	pc, err := ns.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_ = pc.Close()
	if _, err := netns.Open(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("Open of a missing path succeeded")
	}
	if _, err := ns.Listen("tcp", "localhost:0"); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("Listen with a host name: %v, want ErrInvalidArgument", err)
	}
}
