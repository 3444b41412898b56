package setup

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
)

// Packages installs and queries Debian packages.
type Packages interface {
	// Missing returns those of names that are not installed.
	Missing(ctx context.Context, names []string) ([]string, error)
	// Install installs names, writing the package manager's output to w.
	Install(ctx context.Context, names []string, w io.Writer) error
}

// Apt is Packages for Debian and Ubuntu: dpkg-query and apt-get.
type Apt struct{}

// Missing asks dpkg which of names are not fully installed.
func (Apt) Missing(ctx context.Context, names []string) ([]string, error) {
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		return nil, fmt.Errorf("this host has no dpkg-query: install %s with its package manager: %w", strings.Join(names, " "), err)
	}
	if len(names) == 0 {
		return nil, nil
	}
	// One query for all: dpkg-query prints the packages it knows and exits non-zero when
	// some are unknown, which are then missing too.
	args := append([]string{"-W", "-f=${Package} ${db:Status-Status}\n"}, names...)
	out, _ := exec.CommandContext(ctx, "dpkg-query", args...).Output()
	installed := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		if pkg, status, ok := strings.Cut(line, " "); ok && status == "installed" {
			installed[strings.Split(pkg, ":")[0]] = true
		}
	}
	var missing []string
	for _, n := range names {
		if !installed[n] {
			missing = append(missing, n)
		}
	}
	return missing, nil
}

// Install runs apt-get update and apt-get install for names.
func (Apt) Install(ctx context.Context, names []string, w io.Writer) error {
	if len(names) == 0 {
		return nil
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("installing %s needs root (or run: sudo apt-get install %s)", strings.Join(names, " "), strings.Join(names, " "))
	}
	env := append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	run := func(args ...string) error {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env, cmd.Stdout, cmd.Stderr = env, w, w
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("apt-get %s: %w", args[0], err)
		}
		return nil
	}
	if err := run("update", "-q"); err != nil {
		return err
	}
	return run(append([]string{"install", "-y", "-q", "--no-install-recommends"}, slices.Sorted(slices.Values(names))...)...)
}
