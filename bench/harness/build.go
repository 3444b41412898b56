package harness

import (
	"context"
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

// Build compiles berth and the Go test agent (CGO disabled, static) into dir. It runs the go
// command in the module that contains the working directory, so call it from inside the
// repository (go run ./bench and go test ./bench do).
func Build(ctx context.Context, dir string) (*Binaries, error) {
	b := &Binaries{
		Berth:   filepath.Join(dir, "berth"),
		Agent:   filepath.Join(dir, "testagent"),
		Version: gitVersion(ctx),
	}
	ldflags := "-X berth.dev/berth/internal/cli.Version=" + b.Version
	for _, job := range []struct{ out, pkg, ldflags string }{
		{b.Berth, "berth.dev/berth/cmd/berth", ldflags},
		{b.Agent, "berth.dev/berth/test/agent", ""},
	} {
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", job.ldflags, "-o", job.out, job.pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("build %s: %w\n%s", job.pkg, err, out)
		}
	}
	return b, nil
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
