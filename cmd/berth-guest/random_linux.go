package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// reseed credits entropy from the host to the kernel's pool and forces the CRNG to
// reseed: every clone of a snapshot starts with the same random state otherwise.
func reseed(entropy []byte) error {
	if len(entropy) == 0 {
		return fmt.Errorf("reseed: no entropy from the host")
	}
	f, err := os.OpenFile("/dev/urandom", os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("reseed: %w", err)
	}
	defer func() { _ = f.Close() }()
	// struct rand_pool_info { int entropy_count; int buf_size; __u32 buf[]; }
	buf := make([]byte, 8+len(entropy))
	binary.NativeEndian.PutUint32(buf[0:], uint32(len(entropy)*8))
	binary.NativeEndian.PutUint32(buf[4:], uint32(len(entropy)))
	copy(buf[8:], entropy)
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, f.Fd(), unix.RNDADDENTROPY, uintptr(unsafe.Pointer(&buf[0]))); errno != 0 { //nolint:gosec // the ioctl takes a pointer to rand_pool_info, built in buf
		return fmt.Errorf("reseed: RNDADDENTROPY: %w", errno)
	}
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, f.Fd(), unix.RNDRESEEDCRNG, 0); errno != 0 {
		return fmt.Errorf("reseed: RNDRESEEDCRNG: %w", errno)
	}
	return nil
}

// setClock sets the wall clock: a restored VM resumes with the snapshot's time.
func setClock(unixNano int64) error {
	if unixNano == 0 {
		return nil
	}
	ts := unix.NsecToTimespec(unixNano)
	if err := unix.ClockSettime(unix.CLOCK_REALTIME, &ts); err != nil {
		return fmt.Errorf("set clock to %v: %w", time.Unix(0, unixNano), err)
	}
	return nil
}
