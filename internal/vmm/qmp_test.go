package vmm

import (
	"context"
	"errors"
	"net"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// startBareQEMU runs QEMU with no machine at all (-M none), connected to a QMP listener.
func startBareQEMU(t *testing.T) *QMP {
	t.Helper()
	bin, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		t.Skip("qemu-system-x86_64 not installed (apt install qemu-system-x86)")
	}
	sock := filepath.Join(t.TempDir(), "qmp.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	cmd := exec.Command(bin, "-M", "none", "-nodefaults", "-display", "none",
		"-chardev", "socket,id=qmp,path="+sock, "-mon", "chardev=qmp,mode=control")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	q, err := NewQMP(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = q.Close() })
	return q
}

func TestQMP_ExecuteAndErrors(t *testing.T) {
	q := startBareQEMU(t)
	var status struct {
		Status  string `json:"status"`
		Running bool   `json:"running"`
	}
	if err := q.Execute(t.Context(), "query-status", nil, &status); err != nil {
		t.Fatalf("query-status: %v", err)
	}
	if status.Status == "" {
		t.Errorf("query-status returned no status: %+v", status)
	}
	err := q.Execute(t.Context(), "no-such-command", nil, nil)
	var qe *QMPError
	if !errors.As(err, &qe) || qe.Class != "CommandNotFound" {
		t.Fatalf("unknown command = %v, want a QMPError of class CommandNotFound", err)
	}
	// The connection is still usable after an error answer.
	if err := q.Execute(t.Context(), "query-status", nil, &status); err != nil {
		t.Fatalf("query-status after an error: %v", err)
	}
}

func TestQMP_WaitEvent(t *testing.T) {
	q := startBareQEMU(t)
	// "stop" makes QEMU emit STOP; it may arrive with the answer (kept) or after it.
	if err := q.Execute(t.Context(), "stop", nil, nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	ev, err := q.WaitEvent(ctx, func(e Event) bool { return e.Name == "STOP" })
	if err != nil || ev.Name != "STOP" {
		t.Fatalf("WaitEvent(STOP) = %v, %v", ev, err)
	}
	// No further event comes: WaitEvent ends with its context.
	ctx2, cancel2 := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel2()
	if _, err := q.WaitEvent(ctx2, func(e Event) bool { return e.Name == "RESUME" }); err == nil {
		t.Fatal("WaitEvent(RESUME) succeeded with no event")
	}
}
