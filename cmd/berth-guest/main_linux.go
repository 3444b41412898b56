package main

import (
	"fmt"
	"log/slog"
	"os"

	"golang.org/x/sys/unix"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil)).With("component", "berth-guest")
	if os.Getpid() != 1 {
		fmt.Fprintln(os.Stderr, "berth-guest: must run as PID 1 of a microVM")
		os.Exit(2)
	}
	err := run(log)
	log.Error("guest init failed; shutting the VM down", "err", err)
	// PID 1 must never exit. QEMU runs with -no-reboot, so a restart ends the VM.
	unix.Sync()
	_ = unix.Reboot(unix.LINUX_REBOOT_CMD_RESTART)
	select {}
}

// restrictKernelInfo keeps the kernel log and kernel addresses from the session's user.
func restrictKernelInfo() {
	for _, f := range []string{"/proc/sys/kernel/dmesg_restrict", "/proc/sys/kernel/kptr_restrict"} {
		_ = os.WriteFile(f, []byte("1"), 0) // best effort: a kernel without the knob has nothing to hide
	}
}

// run sets the guest up, reports ready and serves the control channel until it fails.
func run(log *slog.Logger) error {
	if err := mountEarly(); err != nil {
		return err
	}
	r := startReaper()
	if err := setupNetwork(); err != nil {
		return err
	}
	layer, err := switchRoot()
	if err != nil {
		return err
	}
	restrictKernelInfo()
	warmPageCache()
	isolated, err := newAgentNetns(true)
	if err != nil {
		return err
	}
	public, err := newAgentNetns(false)
	if err != nil {
		return err
	}
	ctl, err := openControl()
	if err != nil {
		return err
	}
	g := &guest{log: log, reaper: r, isolated: isolated, public: public, layer: layer, ctl: ctl}
	if err := g.listenRelay(); err != nil {
		return err
	}
	return g.serve()
}
