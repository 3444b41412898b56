package gvisor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// AptPackage is the Debian package that provides runsc.
const AptPackage = "runsc"

// fallbackPaths are where runsc is looked for when it is not on $PATH.
var fallbackPaths = []string{"/usr/bin/runsc", "/usr/sbin/runsc"}

// findRunsc returns the runsc to use: configured, else on $PATH, else a usual location.
func findRunsc(configured string) (string, error) {
	if configured != "" {
		if err := executable(configured); err != nil {
			return "", fmt.Errorf("runsc at %s: %w", configured, err)
		}
		return configured, nil
	}
	if p, err := exec.LookPath("runsc"); err == nil {
		return p, nil
	}
	for _, p := range fallbackPaths {
		if executable(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("runsc not found on $PATH nor in %s (apt-get install %s)", strings.Join(fallbackPaths, ", "), AptPackage)
}

func executable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", path)
	}
	return nil
}

// runsc is one runsc binary and the global flags every invocation for a sandbox shares.
type runsc struct {
	path     string
	platform string // --platform, or "" for runsc's default

	probeOnce sync.Once
	overlay   string // the overlay flag this runsc understands
	seccomp   bool   // it loads the bundle's seccomp filter inside the sandbox (--oci-seccomp)
	probeErr  error
}

// probe asks runsc which flags it knows (once) and picks the overlay flag: --overlay2 on
// builds from 2022 on, the older --overlay (every mount, in memory) before.
func (r *runsc) probe() error {
	r.probeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, r.path, "flags").CombinedOutput() //nolint:gosec // G204: runsc is the configured runtime
		if err != nil {
			r.probeErr = fmt.Errorf("%s flags: %w: %s", r.path, err, bytes.TrimSpace(out))
			return
		}
		r.seccomp = bytes.Contains(out, []byte("-oci-seccomp"))
		switch {
		case bytes.Contains(out, []byte("-overlay2 ")):
			r.overlay = "--overlay2=all:memory"
		case bytes.Contains(out, []byte("-overlay\n")) || bytes.Contains(out, []byte("-overlay ")):
			r.overlay = "--overlay"
		default:
			r.probeErr = errors.New(r.path + " supports neither --overlay2 nor --overlay: the shared root filesystem cannot be protected")
		}
	})
	return r.probeErr
}

// args returns the full argument list for a runsc command on the sandbox whose state
// (runsc --root) is in root.
func (r *runsc) args(root string, cmd ...string) []string {
	a := []string{"--root", root, "--network=host", r.overlay}
	if r.seccomp {
		a = append(a, "--oci-seccomp")
	}
	if r.platform != "" {
		a = append(a, "--platform="+r.platform)
	}
	return append(a, cmd...)
}

// command returns an exec.Cmd for a runsc command on the sandbox whose state is in root.
func (r *runsc) command(ctx context.Context, root string, cmd ...string) *exec.Cmd {
	return exec.CommandContext(ctx, r.path, r.args(root, cmd...)...) //nolint:gosec // G204: runsc is the configured runtime
}

// run runs a short runsc command and returns its error with runsc's output.
func (r *runsc) run(ctx context.Context, root string, cmd ...string) error {
	c := r.command(ctx, root, cmd...)
	c.Env = []string{}
	out, err := c.CombinedOutput()
	if err != nil {
		return fmt.Errorf("runsc %s: %w: %s", cmd[0], err, bytes.TrimSpace(out))
	}
	return nil
}
