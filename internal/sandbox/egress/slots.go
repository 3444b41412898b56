package egress

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"

	"berth.dev/berth/internal/errdefs"
)

// errNoSlots is returned when every /30 of the subnet is in use.
var errNoSlots = errors.New("every address slot of the egress subnet is in use")

// slots hands out the /30 blocks of an IPv4 subnet, one per PUBLIC namespace: block i is
// network+4i, its host side network+4i+1 and its sandbox side network+4i+2. It hands them
// out round-robin, so a freed block (and its address) is reused as late as possible.
type slots struct {
	base netip.Addr
	n    int

	mu    sync.Mutex
	used  []bool
	next  int
	inUse int
}

// newSlots checks that subnet is an IPv4 prefix with room for at least one /30.
func newSlots(subnet netip.Prefix) (*slots, error) {
	if !subnet.IsValid() || !subnet.Addr().Is4() || subnet.Bits() > 30 {
		return nil, fmt.Errorf("%w: egress subnet %s must be an IPv4 prefix of /30 or wider", errdefs.ErrInvalidArgument, subnet)
	}
	if subnet.Bits() < 12 {
		return nil, fmt.Errorf("%w: egress subnet %s is wider than /12", errdefs.ErrInvalidArgument, subnet)
	}
	n := 1 << (30 - subnet.Bits())
	return &slots{base: subnet.Masked().Addr(), n: n, used: make([]bool, n)}, nil
}

// acquire reserves a free block.
func (s *slots) acquire() (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inUse == s.n {
		return 0, errNoSlots
	}
	for s.used[s.next] {
		s.next = (s.next + 1) % s.n
	}
	i := s.next
	s.used[i] = true
	s.inUse++
	s.next = (i + 1) % s.n
	return i, nil
}

// release frees block i.
func (s *slots) release(i int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.used[i] {
		s.used[i] = false
		s.inUse--
	}
}

// addrs returns the host-side and sandbox-side addresses of block i, both as /30 prefixes.
func (s *slots) addrs(i int) (host, sandbox netip.Prefix) {
	b := s.base.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += uint32(i) * 4
	at := func(off uint32) netip.Prefix {
		x := v + off
		return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)}), 30)
	}
	return at(1), at(2)
}
