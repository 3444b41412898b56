//go:build linux

package process

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"berth.dev/berth/internal/errdefs"
)

func TestLayout_HostPath(t *testing.T) {
	for _, tc := range []struct {
		name string
		l    layout
		in   string
		want string
	}{
		{"host absolute", layout{workdir: "/s/id", cwd: "/s/id"}, "/usr/bin/python3", "/usr/bin/python3"},
		{"relative", layout{workdir: "/s/id", cwd: "/s/id"}, "bin/x", "/s/id/bin/x"},
		{"code dir", layout{codeAt: "/var/task", workdir: "/s/id", cwd: "/s/id"}, "/var/task/app/main.py", "/s/id/app/main.py"},
		{"code dir itself", layout{codeAt: "/var/task", workdir: "/s/id", cwd: "/s/id"}, "/var/task", "/s/id"},
		{"beside code dir", layout{codeAt: "/var/task", workdir: "/s/id", cwd: "/s/id"}, "/var/taskforce", "/var/taskforce"},
		{"rootfs", layout{rootFS: "/img", workdir: "/s/id", cwd: "/img/srv"}, "/agent", "/img/agent"},
		{"rootfs dot-dot stays inside", layout{rootFS: "/img", workdir: "/s/id", cwd: "/img/srv"}, "/../../etc/passwd", "/img/etc/passwd"},
		{"rootfs and code", layout{rootFS: "/img", codeAt: "/app", workdir: "/s/id", cwd: "/s/id"}, "/app/run", "/s/id/run"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.l.hostPath(tc.in); got != tc.want {
				t.Fatalf("hostPath(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestLayout_Resolve(t *testing.T) {
	root := t.TempDir()
	for _, f := range []struct {
		path string
		mode os.FileMode
	}{{"bin/tool", 0o755}, {"srv/run", 0o755}, {"srv/data", 0o644}} {
		p := filepath.Join(root, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, f.mode); err != nil {
			t.Fatal(err)
		}
	}
	l := layout{rootFS: root, workdir: "/unused", cwd: filepath.Join(root, "srv")}
	for _, tc := range []struct {
		name, in string
		env      []string
		want     string // "" means an ErrInvalidArgument
	}{
		{"absolute in rootfs", "/bin/tool", nil, filepath.Join(root, "bin/tool")},
		{"relative to cwd", "./run", nil, filepath.Join(root, "srv/run")},
		{"bare name on PATH in rootfs", "tool", []string{"PATH=/nope:/bin"}, filepath.Join(root, "bin/tool")},
		{"last PATH wins", "tool", []string{"PATH=/bin", "PATH=/nope"}, ""},
		{"relative PATH entry", "run", []string{"PATH=."}, filepath.Join(root, "srv/run")},
		{"not executable", "/srv/data", nil, ""},
		{"directory", "/srv", nil, ""},
		{"missing", "/bin/none", nil, ""},
		{"host programs are not in the rootfs", "sh", []string{"PATH=/usr/bin:/bin"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := l.resolve(tc.in, tc.env, l.cwd)
			if tc.want == "" {
				if !errors.Is(err, errdefs.ErrInvalidArgument) {
					t.Fatalf("resolve(%q) = %q, %v; want ErrInvalidArgument", tc.in, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("resolve(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}
