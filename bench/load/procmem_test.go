package load

import (
	"os"
	"runtime/debug"
	"syscall"
	"testing"
	"time"

	"berth.dev/berth/bench/harness"
)

// TestMemWatch_Self: the watcher sees this process's resident memory, including a block
// touched while it runs.
func TestMemWatch_Self(t *testing.T) {
	pid := os.Getpid()
	// Earlier tests of the package leave freed heap that the runtime's scavenger returns to
	// the OS in the background, which would shrink RSS while the block grows it: return it
	// all now.
	debug.FreeOSMemory()
	before, err := harness.ReadProcMemory(pid)
	if err != nil {
		t.Fatal(err)
	}
	if before.RSS <= 0 || before.Peak < before.RSS {
		t.Fatalf("memory = %+v", before)
	}
	w := watchMem(pid, time.Millisecond)
	// A fresh anonymous mapping, not a Go allocation: the Go heap may hand back pages that
	// are already resident, and then RSS would not grow at all.
	block, err := syscall.Mmap(-1, 0, 64<<20, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = syscall.Munmap(block) }()
	for i := 0; i < len(block); i += 4096 {
		block[i] = 1
	}
	held, err := harness.ReadProcMemory(pid)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // samples while the block is resident
	peak, err := w.Stop()
	if err != nil {
		t.Fatal(err)
	}
	if held.RSS < before.RSS+32<<20 {
		t.Fatalf("RSS %d MiB with the block, %d MiB before: the block is not resident", held.RSS>>20, before.RSS>>20)
	}
	if peak < held.RSS-4<<20 {
		t.Errorf("peak %d MiB, but RSS was %d MiB with the block: the watcher missed it", peak>>20, held.RSS>>20)
	}
}

// TestResetHWM_Self: a 64 MiB block mapped, touched and unmapped leaves VmHWM far above
// VmRSS; the reset brings it back down.
func TestResetHWM_Self(t *testing.T) {
	pid := os.Getpid()
	if err := resetHWM(pid); err != nil {
		t.Skipf("clear_refs not writable here: %v", err)
	}
	block, err := syscall.Mmap(-1, 0, 64<<20, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(block); i += 4096 {
		block[i] = 1
	}
	if err := syscall.Munmap(block); err != nil {
		t.Fatal(err)
	}
	high, err := harness.ReadProcMemory(pid)
	if err != nil {
		t.Fatal(err)
	}
	if high.Peak < high.RSS+48<<20 {
		t.Fatalf("VmHWM %d MiB, VmRSS %d MiB: the unmapped block left no high-water mark", high.Peak>>20, high.RSS>>20)
	}
	if err := resetHWM(pid); err != nil {
		t.Fatal(err)
	}
	low, err := harness.ReadProcMemory(pid)
	if err != nil {
		t.Fatal(err)
	}
	if low.Peak > low.RSS+8<<20 {
		t.Errorf("after reset VmHWM %d MiB, VmRSS %d MiB", low.Peak>>20, low.RSS>>20)
	}
}
