package egress

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"berth.dev/berth/internal/errdefs"
)

// claimTag takes the host-wide claim on c.Tag: an exclusive flock on a file in /run/berth
// held until Close. New removes every veth and table named with its Tag as left by a
// crashed Berth, so a second live Manager with the same Tag would cut off the first one's
// sandboxes (and both would hand out the same veth names) — it is refused instead. A
// crashed process drops its lock with its descriptors. Where the file cannot be created
// (not root) there is no claim, and no PUBLIC networks either.
func claimTag(c Config) (*os.File, error) {
	name := c.Tag
	if name == "" {
		name = "default"
	}
	f, err := lockFile(runDir+"/egress-tag-"+name+".lock", unix.LOCK_EX|unix.LOCK_NB)
	switch {
	case err == nil:
		return f, nil
	case errors.Is(err, unix.EWOULDBLOCK):
		return nil, fmt.Errorf("egress: %w: tag %q is in use by another Berth server on this host; "+
			"give each server its own sandbox.egress.tag (--egress-tag) and sandbox.egress.subnet (--egress-subnet)",
			errdefs.ErrConflict, c.Tag)
	default:
		return nil, nil //nolint:nilerr // no claim possible here, and PUBLIC will say why it is unavailable
	}
}
