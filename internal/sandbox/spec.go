package sandbox

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"berth.dev/berth/internal/errdefs"
)

// Or returns l with every zero limit taken from def.
func (l Limits) Or(def Limits) Limits {
	if l.CPUs == 0 {
		l.CPUs = def.CPUs
	}
	if l.MemoryBytes == 0 {
		l.MemoryBytes = def.MemoryBytes
	}
	if l.Pids == 0 {
		l.Pids = def.Pids
	}
	if l.DiskBytes == 0 {
		l.DiskBytes = def.DiskBytes
	}
	return l
}

// CheckSpec checks what every isolating driver needs of a Spec besides its ID: a command,
// KEY=VALUE environment entries, absolute paths, and an egress mode among egress (an empty
// mode is NetworkNone). Errors wrap errdefs.ErrInvalidArgument.
func CheckSpec(spec Spec, egress []NetworkMode) error {
	if len(spec.Command) == 0 || spec.Command[0] == "" {
		return fmt.Errorf("%w: empty command", errdefs.ErrInvalidArgument)
	}
	if err := CheckEnv(spec.Env); err != nil {
		return err
	}
	for _, p := range []string{spec.RootFS, spec.CodeDir, spec.WorkDir} {
		if p != "" && !path.IsAbs(p) {
			return fmt.Errorf("%w: path %s is not absolute", errdefs.ErrInvalidArgument, p)
		}
	}
	mode := spec.Network.Mode
	if mode == "" {
		mode = NetworkNone
	}
	if !slices.Contains(egress, mode) {
		return fmt.Errorf("%w: network mode %s is not available (this driver offers %v)", errdefs.ErrInvalidArgument, mode, egress)
	}
	return nil
}

// CheckEnv checks that every entry of env is KEY=VALUE with a non-empty key and no NUL.
func CheckEnv(env []string) error {
	for _, kv := range env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" || strings.ContainsRune(kv, 0) {
			return fmt.Errorf("%w: environment entry %q is not KEY=VALUE", errdefs.ErrInvalidArgument, kv)
		}
	}
	return nil
}
