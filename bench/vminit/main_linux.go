package main

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"berth.dev/berth/internal/sandbox/microvm/guestnet"
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
	if err := guestnet.IfUp("lo", nil, nil); err != nil {
		return err
	}
	if err := guestnet.IfUp("eth0", guestnet.Addr, guestnet.Netmask); err != nil {
		return err
	}
	env := []string{"PATH=/", "PORT=8080", "HOME=/"}
	if err := unix.Exec("/agent", []string{"/agent"}, env); err != nil {
		return fmt.Errorf("exec /agent: %w", err)
	}
	return nil
}
