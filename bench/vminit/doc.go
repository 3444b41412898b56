// Command vminit is PID 1 of the plain-QEMU baseline in Berth's benchmark harness: a
// microVM booted from the same guest kernel as the microvm driver with an initramfs that
// holds only this program (/init) and the Go test agent (/agent).
//
// It brings up lo, and eth0 at 10.0.2.15/24 (QEMU's user-mode network, which needs no
// gateway for the host's port forward), then executes /agent with PORT=8080, so the agent
// becomes PID 1 and the harness times boot → first byte through the forward. It mounts
// nothing and has no root filesystem besides the initramfs: it measures what a VM cold
// boot costs, not a sandbox. On any failure it prints the error on the console and reboots,
// which ends a VM run with -no-reboot.
//
// Build it static: CGO_ENABLED=0 go build ./bench/vminit.
package main
