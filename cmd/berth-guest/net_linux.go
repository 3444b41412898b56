package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"berth.dev/berth/internal/sandbox/microvm/guestnet"
)

// setupNetwork brings up lo, and eth0 at 10.0.2.15/24 (QEMU's user-mode network) with a
// default route through the gateway. Whether anything lies beyond the gateway is the
// host's choice (the microvm driver's egress policy): nothing at all, or what the network
// namespace QEMU runs in reaches.
func setupNetwork() error {
	if err := guestnet.IfUp("lo", nil, nil); err != nil {
		return err
	}
	if _, err := net.InterfaceByName("eth0"); err != nil {
		return nil // no network card: relay connections are impossible, but boot anyway
	}
	if err := guestnet.IfUp("eth0", guestnet.Addr, guestnet.Netmask); err != nil {
		return err
	}
	return guestnet.AddDefaultRoute("eth0", gatewayAddr)
}

// agentNetns runs functions on a thread inside a network namespace for the session's
// processes: processes forked there (the agent, Exec commands) and sockets created there
// (relay dials, forwarded ports) live in it. The thread is also confined
// (confineThread), so everything forked from it is. Two exist: one in a namespace of its
// own that holds only lo (egress NONE and ALLOWLIST), and one in the guest's own namespace,
// with eth0 (PUBLIC).
type agentNetns struct {
	do chan func()
}

// newAgentNetns starts a confined thread: in a new loopback-only network namespace if
// isolated, else in the guest's own.
func newAgentNetns(isolated bool) (*agentNetns, error) {
	ns := &agentNetns{do: make(chan func())}
	errc := make(chan error, 1)
	go func() {
		// This thread never leaves its namespace and is never unlocked, so it is never
		// reused for other goroutines.
		runtime.LockOSThread()
		if isolated {
			// No fallback tunnel devices (sit0, …) in new namespaces: lo only.
			_ = os.WriteFile("/proc/sys/net/core/fb_tunnels_only_for_init_net", []byte("2"), 0)
			if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
				errc <- fmt.Errorf("agent network namespace: %w", err)
				return
			}
			if err := guestnet.IfUp("lo", nil, nil); err != nil {
				errc <- err
				return
			}
		}
		if err := confineThread(); err != nil {
			errc <- err
			return
		}
		errc <- nil
		for f := range ns.do {
			f()
		}
	}()
	return ns, <-errc
}

// run calls f on the namespace's thread.
func (ns *agentNetns) run(f func()) {
	done := make(chan struct{})
	ns.do <- func() { defer close(done); f() }
	<-done
}

// startProcess forks argv inside the namespace.
func (ns *agentNetns) startProcess(argv0 string, argv []string, attr *os.ProcAttr) (p *os.Process, err error) {
	ns.run(func() { p, err = os.StartProcess(argv0, argv, attr) })
	return p, err
}

// dial connects to 127.0.0.1:port inside the namespace.
func (ns *agentNetns) dial(port int) (c net.Conn, err error) {
	ns.run(func() {
		d := net.Dialer{Timeout: 2 * time.Second}
		c, err = d.DialContext(context.Background(), "tcp", fmt.Sprintf("127.0.0.1:%d", port))
	})
	return c, err
}

// listen opens a TCP listener inside the namespace.
func (ns *agentNetns) listen(addr string) (l net.Listener, err error) {
	ns.run(func() { l, err = net.Listen("tcp4", addr) })
	return l, err
}

// listenPacket opens a UDP socket inside the namespace.
func (ns *agentNetns) listenPacket(addr string) (pc net.PacketConn, err error) {
	ns.run(func() { pc, err = net.ListenPacket("udp4", addr) })
	return pc, err
}
