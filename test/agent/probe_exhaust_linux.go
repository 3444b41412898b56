package main

import (
	"bytes"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// hoard keeps what alloc allocated reachable.
var hoard [][]byte

// alloc allocates mb MiB and writes to every page of it, so that it is resident.
func alloc(mb int) int {
	for range mb {
		b := make([]byte, 1<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		hoard = append(hoard, b)
	}
	return mb
}

// forkMany forks up to n children that do nothing but wait to be killed (see forkPaused),
// and returns how many it forked and the error that stopped it, if any.
func forkMany(n int) (int, error) {
	for i := range n {
		if _, errno := forkPaused(); errno != 0 {
			return i, errno
		}
	}
	return n, nil
}

// allSignals is the signal mask a forked child blocks (SIGKILL and SIGSTOP stay).
var allSignals = ^uint64(0)

// forkPaused forks (clone with only SIGCHLD) without exec. The child is a copy of one
// thread of a Go program, so it runs nothing but raw system calls: it blocks every
// signal, closes every descriptor and pauses until SIGKILL.
//
//go:nosplit
//go:norace
func forkPaused() (int, syscall.Errno) {
	mask := uintptr(unsafe.Pointer(&allSignals)) //nolint:gosec // a raw system call needs the address
	pid, _, errno := syscall.RawSyscall6(syscall.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
	if errno != 0 || pid != 0 {
		return int(pid), errno
	}
	_, _, _ = syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, 2 /* SIG_SETMASK */, mask, 0, 8, 0, 0)
	_, _, _ = syscall.RawSyscall(unix.SYS_CLOSE_RANGE, 0, ^uintptr(0), 0)
	for {
		_, _, _ = syscall.RawSyscall(syscall.SYS_PAUSE, 0, 0, 0)
	}
}

// fill writes mb MiB to path in 1 MiB chunks, syncs, and returns how much it wrote
// before the first error. The file stays.
func fill(path string, mb int) (int64, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644) //nolint:gosec // filler, not a secret
	if err != nil {
		return 0, err
	}
	defer func() { _ = f.Close() }()
	chunk := bytes.Repeat([]byte{0xa5}, 1<<20)
	var written int64
	for range mb {
		n, err := f.Write(chunk)
		written += int64(n)
		if err != nil {
			return written, err
		}
	}
	return written, f.Sync()
}
