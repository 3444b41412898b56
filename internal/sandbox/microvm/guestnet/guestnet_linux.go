// Package guestnet brings up network interfaces inside a microVM guest, for its PID 1
// programs: cmd/berth-guest and the benchmark's plain-QEMU baseline init (bench/vminit).
// Plain ioctls, no netlink: a guest init links as little as it can.
package guestnet

import (
	"fmt"
	"net"

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
