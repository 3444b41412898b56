// Package guestnet brings up network interfaces inside a microVM guest, for its PID 1
// programs: cmd/berth-guest and the benchmark's plain-QEMU baseline init (bench/vminit).
// Plain ioctls, no netlink: a guest init links as little as it can.
package guestnet

import (
	"fmt"
	"net"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Guest addresses on QEMU's user-mode network.
var (
	Addr    = net.IPv4(10, 0, 2, 15).To4()
	Netmask = net.IPv4(255, 255, 255, 0).To4()
)

// IfUp sets an address (if given) and the up flag on an interface of the calling thread's
// network namespace.
func IfUp(name string, addr, mask net.IP) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("up %s: %w", name, err)
	}
	defer func() { _ = unix.Close(fd) }()
	set := func(req uint, what string, fill func(*unix.Ifreq) error) error {
		ifr, err := unix.NewIfreq(name)
		if err != nil {
			return err
		}
		if err := fill(ifr); err != nil {
			return err
		}
		if err := unix.IoctlIfreq(fd, req, ifr); err != nil {
			return fmt.Errorf("up %s: %s: %w", name, what, err)
		}
		return nil
	}
	if addr != nil {
		if err := set(unix.SIOCSIFADDR, "address", func(r *unix.Ifreq) error { return r.SetInet4Addr(addr) }); err != nil {
			return err
		}
		if err := set(unix.SIOCSIFNETMASK, "netmask", func(r *unix.Ifreq) error { return r.SetInet4Addr(mask) }); err != nil {
			return err
		}
	}
	return set(unix.SIOCSIFFLAGS, "flags", func(r *unix.Ifreq) error {
		r.SetUint16(unix.IFF_UP | unix.IFF_RUNNING)
		return nil
	})
}

// siocAddRT is SIOCADDRT, which golang.org/x/sys/unix does not define for Linux.
const siocAddRT = 0x890B

// AddDefaultRoute adds an IPv4 default route through gw on interface dev, in the calling
// thread's network namespace. It fails with EEXIST if there is one already.
func AddDefaultRoute(dev string, gw net.IP) error {
	gw4 := gw.To4()
	if gw4 == nil {
		return fmt.Errorf("default route: %s is not an IPv4 address", gw)
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("default route: %w", err)
	}
	defer func() { _ = unix.Close(fd) }()
	name, err := unix.BytePtrFromString(dev)
	if err != nil {
		return fmt.Errorf("default route: %w", err)
	}
	rt := rtentry{Flags: unix.RTF_UP | unix.RTF_GATEWAY, Dev: name}
	rt.Dst.Family = unix.AF_INET
	rt.Genmask.Family = unix.AF_INET
	rt.Gateway.Family = unix.AF_INET
	copy(rt.Gateway.Addr[:], gw4)
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), siocAddRT, uintptr(unsafe.Pointer(&rt))); e != 0 { //nolint:gosec // G103: the ioctl takes a pointer to struct rtentry
		return fmt.Errorf("default route via %s on %s: %w", gw, dev, e)
	}
	return nil
}

// rtentry is struct rtentry of <linux/route.h> on 64-bit Linux, with struct sockaddr_in
// in place of its struct sockaddr fields (both are 16 bytes).
type rtentry struct {
	_       uint64
	Dst     sockaddrIn
	Gateway sockaddrIn
	Genmask sockaddrIn
	Flags   uint16
	_       int16
	_       uint64
	_       uintptr
	Metric  int16
	Dev     *byte
	MTU     uint64
	Window  uint64
	IRTT    uint16
}

// sockaddrIn is struct sockaddr_in.
type sockaddrIn struct {
	Family uint16
	Port   [2]byte
	Addr   [4]byte
	_      [8]byte
}
