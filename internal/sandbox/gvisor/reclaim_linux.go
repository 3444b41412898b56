package gvisor

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"

	"berth.dev/berth/internal/errdefs"
)

// Reclaim kills and wipes a sandbox a previous Berth process left behind, from its
// Sandbox.State: `runsc delete --force` ends the sentry and the gofer while runsc's state
// describes them; whatever is still in the sandbox's cgroup is killed; then the cgroup's
// directories in every hierarchy and the sandbox's directory are removed. The network
// namespace needs nothing: it died with the process that held it. A sandbox that is
// already gone is not an error.
func (d *Driver) Reclaim(ctx context.Context, raw json.RawMessage) error {
	var st state
	if err := json.Unmarshal(raw, &st); err != nil {
		return fmt.Errorf("reclaim sandbox: %w: state: %w", errdefs.ErrInvalidArgument, err)
	}
	if validID(st.ID) != nil || st.Cgroup != cgroupName(st.ID) || filepath.Clean(st.Dir) != d.sandboxDir(st.ID) {
		return fmt.Errorf("reclaim sandbox: %w: state %s does not describe a sandbox of this gvisor driver", errdefs.ErrInvalidArgument, raw)
	}
	if d.cgErr != nil {
		return fmt.Errorf("reclaim sandbox %s: %w", st.ID, d.cgErr)
	}
	t := &teardown{d: d, id: st.ID, dir: d.sandboxDir(st.ID)}
	if err := t.run(ctx); err != nil {
		return fmt.Errorf("reclaim sandbox %s: %w", st.ID, err)
	}
	return nil
}
