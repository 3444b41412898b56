package egress

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Files that coordinate net.ipv4.ip_forward between every Manager on the host, in this
// process or another. They are in /run, so they go away at boot, like the sysctl value.
const (
	ipForwardPath = "/proc/sys/net/ipv4/ip_forward"
	runDir        = "/run/berth"
	// forwardMutex serializes starting and stopping Managers (flock, exclusive).
	forwardMutex = runDir + "/egress-forwarding.lock"
	// forwardHolders is flocked shared by every running Manager.
	forwardHolders = runDir + "/egress-forwarding.holders"
	// forwardFlipped exists while forwarding is on because Berth turned it on.
	forwardFlipped = runDir + "/egress-forwarding.flipped"
)

// forwardHold is one Manager's claim on IPv4 forwarding.
//
// The first Manager to start when net.ipv4.ip_forward is off turns it on and records that
// in forwardFlipped; every Manager started while that record exists puts the guard rule in
// its table (nothing but sandbox traffic is forwarded). The last Manager to stop (no other
// holds forwardHolders) turns forwarding back off and removes the record. If forwarding
// was already on, Berth leaves it and the host's own forwarding alone. A crashed process
// drops its locks with its descriptors, so it never blocks the others.
type forwardHold struct {
	holders *os.File // flocked shared while the Manager runs
	flipped bool     // Berth turned forwarding on: the ruleset needs the guard
}

// holdForwarding claims forwarding, with install run (to put the ruleset in place, guard
// or not) before forwarding is turned on. On error nothing is held or changed.
func holdForwarding(install func(guard bool) error) (_ *forwardHold, err error) {
	mu, err := lockFile(forwardMutex, unix.LOCK_EX)
	if err != nil {
		return nil, err
	}
	defer func() { _ = mu.Close() }()
	holders, err := lockFile(forwardHolders, unix.LOCK_SH)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = holders.Close()
		}
	}()
	on, err := ipForwardOn()
	if err != nil {
		return nil, err
	}
	_, statErr := os.Stat(forwardFlipped)
	h := &forwardHold{holders: holders, flipped: !on || statErr == nil}
	if err := install(h.flipped); err != nil {
		return nil, err
	}
	if !on {
		if err := os.WriteFile(forwardFlipped, nil, 0o600); err != nil {
			return nil, fmt.Errorf("record forwarding change: %w", err)
		}
		if err := writeIPForward("1"); err != nil {
			return nil, errors.Join(err, os.Remove(forwardFlipped))
		}
	}
	return h, nil
}

// release gives up the claim; the last holder restores forwarding if Berth changed it.
// It returns with forwarding off only if no other Manager still runs, so the caller may
// remove its ruleset afterwards without forwarding anything unfiltered.
func (h *forwardHold) release() error {
	mu, err := lockFile(forwardMutex, unix.LOCK_EX)
	if err != nil {
		_ = h.holders.Close()
		return err
	}
	defer func() { _ = mu.Close() }()
	_ = h.holders.Close()
	last, err := lockFile(forwardHolders, unix.LOCK_EX|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return nil // another Manager still runs
	}
	if err != nil {
		return err
	}
	defer func() { _ = last.Close() }()
	if _, err := os.Stat(forwardFlipped); err != nil {
		return nil // forwarding was on before Berth
	}
	if err := writeIPForward("0"); err != nil {
		return err
	}
	if err := os.Remove(forwardFlipped); err != nil {
		return fmt.Errorf("remove forwarding record: %w", err)
	}
	return nil
}

// lockFile opens (creating) path and flocks it with how.
func lockFile(path string, how int) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	for {
		err = unix.Flock(int(f.Fd()), how)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, nil
}

func ipForwardOn() (bool, error) {
	b, err := os.ReadFile(ipForwardPath)
	if err != nil {
		return false, fmt.Errorf("read %s: %w", ipForwardPath, err)
	}
	return !bytes.Equal(bytes.TrimSpace(b), []byte("0")), nil
}

func writeIPForward(v string) error {
	if err := os.WriteFile(ipForwardPath, []byte(v), 0o644); err != nil {
		return fmt.Errorf("set %s to %s: %w", ipForwardPath, v, err)
	}
	return nil
}
