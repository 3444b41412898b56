package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Binaries are the programs the benchmarks run, built once per run.
type Binaries struct {
	// Berth is the berth binary (built from ./cmd/berth).
	Berth string
	// Agent is a static build of test/agent, the Go test agent.
	Agent string
	// Version is what berth was stamped with: `git describe --always --dirty`, or "dev".
	Version string
}

// BerthEnv names a prebuilt berth binary that Build uses instead of building cmd/berth
// (to measure a release, or a build with other drivers compiled in). It is copied into the
// build directory, so programs looked for next to berth are found there.
const BerthEnv = "BERTH_BENCH_BERTH"

// Build compiles berth and the Go test agent (CGO disabled, static) into dir. It runs the go
// command in the module that contains the working directory, so call it from inside the
// repository (go run ./bench and go test ./bench do).
func Build(ctx context.Context, dir string) (*Binaries, error) {
	b := &Binaries{
		Berth:   filepath.Join(dir, "berth"),
		Agent:   filepath.Join(dir, "testagent"),
		Version: gitVersion(ctx),
	}
	jobs := []struct{ out, pkg, ldflags string }{{b.Agent, "berth.dev/berth/test/agent", ""}}
	if prebuilt := os.Getenv(BerthEnv); prebuilt != "" {
		if err := copyFile(prebuilt, b.Berth); err != nil {
			return nil, fmt.Errorf("%s: %w", BerthEnv, err)
		}
		b.Version = "prebuilt " + prebuilt
	} else {
		jobs = append(jobs, struct{ out, pkg, ldflags string }{b.Berth, "berth.dev/berth/cmd/berth", "-X berth.dev/berth/internal/cli.Version=" + b.Version})
	}
	for _, job := range jobs {
		if err := buildStatic(ctx, job.pkg, job.out, job.ldflags); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// copyFile copies an executable.
func copyFile(from, to string) error {
	raw, err := os.ReadFile(from) //nolint:gosec // a binary the user named
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil { //nolint:gosec // a build directory
		return err
	}
	return os.WriteFile(to, raw, 0o755) //nolint:gosec // an executable
}

// BuildExtra builds one more static program of the module (a main package such as
// "berth.dev/berth/cmd/berth-guest") next to berth and returns its path; bin names the
// file. Later calls for the same bin reuse the first build.
func (b *Binaries) BuildExtra(ctx context.Context, pkg, bin string) (string, error) {
	out := filepath.Join(filepath.Dir(b.Berth), bin)
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	if err := buildStatic(ctx, pkg, out, ""); err != nil {
		return "", err
	}
	return out, nil
}

// buildStatic runs go build with CGO disabled.
func buildStatic(ctx context.Context, pkg, out, ldflags string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", ldflags, "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s: %w\n%s", pkg, err, msg)
	}
	return nil
}

// gitVersion describes the checkout, or returns "dev" outside a git work tree.
func gitVersion(ctx context.Context) string {
	out, err := exec.CommandContext(ctx, "git", "describe", "--always", "--dirty").Output()
	if err != nil {
		return "dev"
	}
	if v := strings.TrimSpace(string(out)); v != "" {
		return v
	}
	return "dev"
}

// CompiledDrivers asks `berth doctor` (over an empty data directory in scratch, so nothing
// is built or probed) which sandbox drivers the berth binary has compiled in.
func (b *Binaries) CompiledDrivers(ctx context.Context, scratch string) ([]string, error) {
	dir, err := os.MkdirTemp(scratch, "doctor-")
	if err != nil {
		return nil, fmt.Errorf("compiled-in drivers: %w", err)
	}
	defer func() { _ = os.RemoveAll(dir) }()
	// doctor exits non-zero when no isolating driver can run; its JSON is written anyway.
	out, runErr := exec.CommandContext(ctx, b.Berth, "doctor", "--data-dir", dir, "-o", "json").Output() //nolint:gosec // the binary the harness built
	var rep struct {
		Drivers []struct {
			Name string `json:"name"`
		} `json:"drivers"`
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		return nil, fmt.Errorf("compiled-in drivers: berth doctor: %w", errors.Join(err, runErr))
	}
	names := make([]string, 0, len(rep.Drivers))
	for _, d := range rep.Drivers {
		names = append(names, d.Name)
	}
	return names, nil
}
