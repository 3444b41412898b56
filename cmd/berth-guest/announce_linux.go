package main

import (
	"net"
	"unsafe"

	"golang.org/x/sys/unix"
)

// gatewayAddr is QEMU's user-mode network's host address, from which forwarded
// connections come.
var gatewayAddr = net.IPv4(10, 0, 2, 2).To4()

// announce makes the user-mode network learn the guest's MAC address now. A VM restored
// from a snapshot has a new user-mode network that knows nothing of the guest: the first
// connection forwarded to it would wait for an ARP exchange, and its first SYN could be
// lost (a second-long retransmission). Deleting the guest's neighbour entry of the
// gateway and sending it a datagram makes the guest ask for the gateway's address, and
// QEMU's network records the asker. Best effort: it only saves time.
func announce() {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer func() { _ = unix.Close(fd) }()
	// struct arpreq { sockaddr arp_pa; sockaddr arp_ha; int arp_flags; sockaddr arp_netmask; char arp_dev[16]; }
	var req [68]byte
	*(*uint16)(unsafe.Pointer(&req[0])) = unix.AF_INET //nolint:gosec // G103: filling the ioctl's C struct
	copy(req[4:8], gatewayAddr)
	copy(req[52:], "eth0")
	_, _, _ = unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCDARP, uintptr(unsafe.Pointer(&req[0]))) //nolint:gosec // G103: the ioctl takes a pointer to arpreq
	sa := &unix.SockaddrInet4{Port: 9}                                                                   // discard; the network drops it (restrict=on)
	copy(sa.Addr[:], gatewayAddr)
	_ = unix.Sendto(fd, []byte{0}, unix.MSG_DONTWAIT, sa)
}
