package main

import (
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

func main() {
	if os.Getpid() != 1 {
		fmt.Fprintln(os.Stderr, "vminit: must run as PID 1 of a VM")
		os.Exit(2)
	}
	err := boot()
	fmt.Fprintf(os.Stderr, "vminit: %v\n", err)
	unix.Sync()
	_ = unix.Reboot(unix.LINUX_REBOOT_CMD_RESTART)
	select {} // PID 1 must not exit
}

// boot configures the network and becomes the agent; it returns only on failure.
func boot() error {
	if err := ifUp("lo", nil, nil); err != nil {
		return err
	}
	if err := ifUp("eth0", net.IPv4(10, 0, 2, 15).To4(), net.IPv4(255, 255, 255, 0).To4()); err != nil {
		return err
	}
	env := []string{"PATH=/", "PORT=8080", "HOME=/"}
	if err := unix.Exec("/agent", []string{"/agent"}, env); err != nil {
		return fmt.Errorf("exec /agent: %w", err)
	}
	return nil
}

// ifUp sets an address (if given) and the up flag on an interface.
func ifUp(name string, addr, mask net.IP) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("up %s: %w", name, err)
	}
	defer func() { _ = unix.Close(fd) }()
	set := func(req uint, what string, fill func(*unix.Ifreq) error) error {
		ifr, err := unix.NewIfreq(name)
		if err != nil {
			return fmt.Errorf("up %s: %w", name, err)
		}
		if err := fill(ifr); err != nil {
			return fmt.Errorf("up %s: %s: %w", name, what, err)
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
