package setup_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"berth.dev/berth/internal/sandbox"
	_ "berth.dev/berth/internal/sandbox/linuxns"
	_ "berth.dev/berth/internal/sandbox/process"
	"berth.dev/berth/internal/setup"
)

// recorder is a package manager that starts with some packages missing and installs them
// when asked; it stands in for apt-get so the test does not change the host.
type recorder struct {
	missing   []string
	installed [][]string
}

func (r *recorder) Missing(_ context.Context, names []string) ([]string, error) {
	var out []string
	for _, n := range names {
		if slices.Contains(r.missing, n) {
			out = append(out, n)
		}
	}
	return out, nil
}

func (r *recorder) Install(_ context.Context, names []string, _ io.Writer) error {
	r.installed = append(r.installed, names)
	r.missing = slices.DeleteFunc(r.missing, func(n string) bool { return slices.Contains(names, n) })
	return nil
}

func TestSetup_InstallsMissingOnceAndBuildsBase(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the linuxns driver's checks need root")
	}
	pm := &recorder{missing: []string{"nodejs"}}
	o := setup.Options{Drivers: []string{"linuxns"}, Driver: sandbox.Options{StateDir: t.TempDir()}, Packages: pm}
	var out bytes.Buffer
	if err := setup.Setup(t.Context(), o, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(pm.installed) != 1 || !slices.Equal(pm.installed[0], []string{"nodejs"}) {
		t.Fatalf("installed %v, want [[nodejs]]", pm.installed)
	}
	for _, want := range []string{"[1/2] host packages", "[2/2] driver linuxns", "base root filesystem ready", "ready (namespaces)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := setup.Setup(t.Context(), o, &out); err != nil {
		t.Fatal(err)
	}
	if len(pm.installed) != 1 || !strings.Contains(out.String(), "all 2 installed") {
		t.Errorf("second run installed again (%v):\n%s", pm.installed, out.String())
	}

	r, err := setup.Doctor(t.Context(), setup.Options{Driver: o.Driver, Packages: pm}, []string{"microvm", "linuxns"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Auto != "linuxns" {
		t.Errorf("auto = %q, want linuxns: %+v", r.Auto, r)
	}
	var pr bytes.Buffer
	r.Print(&pr)
	if !strings.Contains(pr.String(), "--sandbox auto picks: linuxns") {
		t.Errorf("report:\n%s", pr.String())
	}
	if _, err := setup.Doctor(t.Context(), setup.Options{Drivers: []string{"nosuch"}}, nil); err == nil {
		t.Error("Doctor accepted an unknown driver")
	}
}

func TestApt_Missing(t *testing.T) {
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		t.Skip("not a Debian host")
	}
	got, err := setup.Apt{}.Missing(t.Context(), []string{"dpkg", "berth-no-such-package"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{"berth-no-such-package"}) {
		t.Fatalf("Missing = %v", got)
	}
}
