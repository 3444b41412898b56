package process

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"berth.dev/berth/internal/errdefs"
)

// defaultPath is searched when the environment has no PATH.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// layout maps the sandbox's view of paths onto the host, which is all the "root" a
// process sandbox has.
type layout struct {
	rootFS  string // Spec.RootFS; "" means the host's own filesystem
	codeAt  string // Spec.WorkDir when Spec.CodeDir was copied into workdir, else ""
	workdir string // StateDir/<id>, removed by Stop
	cwd     string // the working directory on the host
}

func newLayout(spec specPaths, workdir string) layout {
	l := layout{rootFS: spec.RootFS, workdir: workdir, cwd: workdir}
	if spec.CodeDir != "" {
		l.codeAt = filepath.Clean("/" + spec.WorkDir)
		return l
	}
	if spec.RootFS != "" && spec.WorkDir != "" {
		if fi, err := os.Stat(l.hostPath(spec.WorkDir)); err == nil && fi.IsDir() {
			l.cwd = l.hostPath(spec.WorkDir)
		}
	}
	return l
}

// specPaths is the part of a Spec the layout needs.
type specPaths struct{ RootFS, CodeDir, WorkDir string }

// hostPath maps a path of the sandbox onto the host: paths under the code's WorkDir name
// the copy, other absolute paths are taken inside RootFS, and relative paths are relative
// to the working directory.
func (l layout) hostPath(p string) string {
	if !filepath.IsAbs(p) {
		return filepath.Join(l.cwd, p)
	}
	p = filepath.Clean(p)
	if l.codeAt != "" {
		if rel, ok := within(l.codeAt, p); ok {
			return filepath.Join(l.workdir, rel)
		}
	}
	if l.rootFS != "" {
		return filepath.Join(l.rootFS, p)
	}
	return p
}

// within reports whether p is dir or below it, and p relative to dir.
func within(dir, p string) (string, bool) {
	rel, err := filepath.Rel(dir, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", false
	}
	return rel, true
}

// resolve finds the host path of the program name (argv[0]) the way execvp would inside
// the sandbox: a name with a slash is a path, a bare name is searched in env's PATH.
func (l layout) resolve(name string, env []string, cwd string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("%w: empty command", errdefs.ErrInvalidArgument)
	}
	if strings.Contains(name, "/") {
		p := l.hostPath(name)
		if !filepath.IsAbs(name) {
			p = filepath.Join(cwd, name)
		}
		if err := executable(p); err != nil {
			return "", fmt.Errorf("%w: command %q: %w", errdefs.ErrInvalidArgument, name, err)
		}
		return p, nil
	}
	path := defaultPath
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		var p string
		if filepath.IsAbs(dir) {
			p = filepath.Join(l.hostPath(dir), name)
		} else {
			p = filepath.Join(cwd, dir, name)
		}
		if executable(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: command %q not found in PATH %q", errdefs.ErrInvalidArgument, name, path)
}

func executable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", p)
	}
	return nil
}
