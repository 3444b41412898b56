package sandbox_test

import (
	"errors"
	"testing"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/sandbox"
)

func TestCheckSpec(t *testing.T) {
	none := []sandbox.NetworkMode{sandbox.NetworkNone}
	ok := sandbox.Spec{Command: []string{"/agent"}, Env: []string{"A=1"}, RootFS: "/r", WorkDir: "/w"}
	if err := sandbox.CheckSpec(ok, none); err != nil {
		t.Fatalf("valid spec: %v", err)
	}
	for name, spec := range map[string]sandbox.Spec{
		"no command":   {},
		"bad env":      {Command: []string{"x"}, Env: []string{"NOEQUALS"}},
		"relative dir": {Command: []string{"x"}, CodeDir: "code"},
		"public":       {Command: []string{"x"}, Network: sandbox.NetworkPolicy{Mode: sandbox.NetworkPublic}},
	} {
		if err := sandbox.CheckSpec(spec, none); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("%s: %v, want ErrInvalidArgument", name, err)
		}
	}
}

func TestLimits_Or(t *testing.T) {
	got := sandbox.Limits{CPUs: 1}.Or(sandbox.Limits{CPUs: 2, MemoryBytes: 3, Pids: 4, DiskBytes: 5})
	if want := (sandbox.Limits{CPUs: 1, MemoryBytes: 3, Pids: 4, DiskBytes: 5}); got != want {
		t.Fatalf("Or = %+v, want %+v", got, want)
	}
}
