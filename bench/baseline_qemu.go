package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"

	"berth.dev/berth/bench/harness"
	"berth.dev/berth/internal/tailbuf"
	"berth.dev/berth/internal/vmm"
)

// qemuNote describes the plain-QEMU baseline in the report.
const qemuNote = "qemu-system-x86_64 -M microvm -accel tcg -m 256 -smp 1, the microvm driver's guest kernel, " +
	"an initramfs of bench/vminit (brings up eth0, execs the agent) and the Go agent, user-mode network with one " +
	"host port forward; cold boot → first byte, no snapshot, no root disk"

// qemuBaseline is a plain QEMU microVM cold-booting the Go agent under TCG, when a guest
// kernel and QEMU are at hand; else nil and why not. It builds bench/vminit and the
// initramfs once.
func qemuBaseline(ctx context.Context, s *suite) (*baseline, string) {
	kernel, why := findGuestKernel()
	if kernel == "" {
		return nil, "not measurable: " + why
	}
	qemu, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		return nil, "not measurable: qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"
	}
	initBin, err := s.bins.BuildExtra(ctx, "berth.dev/berth/bench/vminit", "vminit")
	if err != nil {
		return nil, "not measurable: " + err.Error()
	}
	dir := filepath.Join(s.scratch, "qemu")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, "not measurable: " + err.Error()
	}
	initrd := filepath.Join(dir, "initramfs.cpio")
	var files []vmm.InitramfsFile
	for _, f := range []struct{ name, path string }{{"init", initBin}, {"agent", s.bins.Agent}} {
		raw, err := os.ReadFile(f.path)
		if err != nil {
			return nil, "not measurable: " + err.Error()
		}
		files = append(files, vmm.InitramfsFile{Name: f.name, Mode: 0o755, Data: raw})
	}
	if err := harness.WriteInitramfs(initrd, files); err != nil {
		return nil, "not measurable: " + err.Error()
	}
	b := &baseline{name: "qemu cold boot (TCG)", note: qemuNote + "; kernel " + kernel,
		start: func(context.Context, agentSpec) (*spawned, error) { return startQEMU(qemu, kernel, initrd, dir) }}
	return b, ""
}

// startQEMU boots one VM whose port 8080 is forwarded from a free loopback port. The
// serial console goes to a file in dir, quoted when the agent never answers.
func startQEMU(qemu, kernel, initrd, dir string) (*spawned, error) {
	port, err := harness.FreePort()
	if err != nil {
		return nil, err
	}
	console := filepath.Join(dir, "console-"+strconv.Itoa(port))
	cmd := exec.Command(qemu, //nolint:gosec // fixed tool, the harness's own files
		"-M", "microvm,x-option-roms=off,isa-serial=on,acpi=off", "-accel", "tcg", "-cpu", "max",
		"-m", "256", "-smp", "1", "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
		"-serial", "file:"+console,
		"-kernel", kernel, "-initrd", initrd,
		"-append", "console=ttyS0 quiet no_timer_check lpj=2000000 panic=-1 reboot=t",
		"-netdev", fmt.Sprintf("user,id=net0,restrict=on,ipv6=off,hostfwd=tcp:127.0.0.1:%d-:8080", port),
		"-device", "virtio-net-device,netdev=net0")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	out := tailbuf.New(4<<10, nil)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start qemu: %w", err)
	}
	return &spawned{
		url:    "http://127.0.0.1:" + strconv.Itoa(port) + "/invocations",
		client: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}},
		stop: func() error {
			err := killWait(cmd)
			if rerr := os.Remove(console); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
				err = errors.Join(err, rerr)
			}
			return err
		},
		diag: func() string {
			raw, _ := os.ReadFile(console) //nolint:gosec // the harness's own file
			return fmt.Sprintf("qemu output: %q; console: %q", out.String(), tail(raw, 2<<10))
		},
	}, nil
}

// tail returns the last n bytes of b.
func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
