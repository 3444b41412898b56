package linuxns

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// Reclaim kills and wipes a sandbox a previous Berth process left behind: everything in its
// cgroup dies (PID 1 first among them, taking the PID and mount namespaces with it), then
// the cgroup and the mount point go. A sandbox that is already gone is not an error.
func (d *Driver) Reclaim(ctx context.Context, raw json.RawMessage) error {
	var st state
	if err := json.Unmarshal(raw, &st); err != nil {
		return fmt.Errorf("reclaim: bad state %s: %w", raw, err)
	}
	if validID(st.ID) != nil || st.Cgroup != cgroupName(st.ID) {
		return fmt.Errorf("reclaim: state %s does not describe a linuxns sandbox", raw)
	}
	if d.cgErr != nil {
		return fmt.Errorf("reclaim %s: %w", st.ID, d.cgErr)
	}
	var errs []error
	if err := d.cgroups.Open(st.Cgroup).Destroy(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := removeDir(d.sessionDir(st.ID)); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("reclaim %s: %w", st.ID, err)
	}
	return nil
}
