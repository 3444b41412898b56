package microvm

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"berth.dev/berth/internal/sandbox/rootfs"
)

// BasePackages are the Debian packages whose files (plus the shared libraries they link)
// make up the guest root filesystem of code-zip agents (Spec.RootFS == ""): a shell, the
// basic commands (coreutils, grep, sed, find) that InvokeAgentRuntimeCommand users
// expect, and Python 3.11. Packages that are not installed on the host are skipped.
var BasePackages = []string{
	"dash", "coreutils", "grep", "sed", "findutils",
	"python3.11-minimal", "libpython3.11-minimal", "libpython3.11-stdlib",
	"python3-minimal", "python3.11", "python3", "ca-certificates",
}

// baseSkip are package paths not worth copying into a VM.
var baseSkip = []string{"/usr/share/doc/", "/usr/share/man/", "/usr/share/lintian/", "/usr/share/locale/"}

// baseBuildTimeout bounds building the base root tree (copying ~100 MB of host files).
const baseBuildTimeout = 10 * time.Minute

// baseRoot returns the base root tree for code-zip agents, building it once per driver.
func (d *Driver) baseRoot(ctx context.Context) (string, error) {
	return d.base.get(ctx, baseBuildTimeout, func(ctx context.Context) (string, error) {
		return BuildBaseRoot(ctx, filepath.Join(d.cfg.CacheDir, "base"))
	})
}

// BuildBaseRoot builds, under parent, the root filesystem tree for code-zip agents in a
// VM and returns its path: the skeleton of rootfs.EnsureBase plus the files of
// BasePackages as installed on the host and the closure of the shared libraries their ELF
// files need (found with ldd). About 60 MB for Python 3.11 instead of the host's whole
// /usr, which a VM cannot borrow by bind mount. The tree is named by a hash of the package
// list with versions, so a host upgrade gives a new tree (and a new disk image); it is
// built in a temporary directory and renamed into place.
//
// Choice, and its limit: a VM needs its files on a disk, and copying the host's /usr
// (gigabytes) into an ext4 image per host is too big, while virtiofs would share /usr
// without copying but forbids snapshots (QEMU 7.2 cannot migrate vhost-user-fs). So
// only what the managed runtimes need goes in; an agent that shells out to other host
// programs finds them missing, and pip packages must ship in the code zip.
func BuildBaseRoot(ctx context.Context, parent string) (string, error) {
	var pkgs []string
	h := sha256.New()
	fmt.Fprintln(h, "berth-base-v1")
	for _, p := range BasePackages {
		out, err := exec.CommandContext(ctx, "dpkg-query", "-W", "-f=${Status} ${Version}", p).Output()
		if err != nil || !strings.HasPrefix(string(out), "install ok installed") {
			continue
		}
		pkgs = append(pkgs, p)
		fmt.Fprintf(h, "%s %s\n", p, out)
	}
	if len(pkgs) == 0 {
		return "", errors.New("base root: none of the base packages is installed (apt install python3)")
	}
	dir := filepath.Join(parent, hex.EncodeToString(h.Sum(nil))[:16])
	if _, err := os.Stat(filepath.Join(dir, "etc", "passwd")); err == nil {
		return dir, nil
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", fmt.Errorf("base root: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, ".build-")
	if err != nil {
		return "", fmt.Errorf("base root: %w", err)
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	if err := os.Chmod(tmp, 0o755); err != nil { //nolint:gosec // the guest's / must be world-readable
		return "", fmt.Errorf("base root: %w", err)
	}
	if err := rootfs.EnsureBase(tmp); err != nil {
		return "", err
	}
	var paths []string
	for _, p := range pkgs {
		out, err := exec.CommandContext(ctx, "dpkg", "-L", p).Output()
		if err != nil {
			return "", fmt.Errorf("base root: dpkg -L %s: %w", p, err)
		}
		for line := range strings.Lines(string(out)) {
			line = strings.TrimSpace(line)
			if !strings.HasPrefix(line, "/") || slices.ContainsFunc(baseSkip, func(s string) bool { return strings.HasPrefix(line, s) }) {
				continue
			}
			paths = append(paths, line)
			paths = append(paths, bytecode(line)...)
		}
	}
	if err := CopyClosure(ctx, tmp, paths...); err != nil {
		return "", fmt.Errorf("base root: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil && !errors.Is(err, fs.ErrExist) {
		if _, serr := os.Stat(filepath.Join(dir, "etc", "passwd")); serr != nil {
			return "", fmt.Errorf("base root: %w", err)
		}
	}
	return dir, nil
}

// CopyClosure copies host paths into the tree dst at the same places, with what they
// need: symlinks are recreated and their targets copied; parent directories that are
// symlinks on the host (usr-merged /bin, /lib) are resolved, so dst should have the same
// symlinks (rootfs.EnsureBase makes them); directories are created, not copied whole; and
// for every ELF file, the shared libraries and the loader that ldd lists are copied too.
// Paths missing on the host are skipped.
func CopyClosure(ctx context.Context, dst string, paths ...string) error {
	c := &closure{dst: dst, seen: map[string]bool{}}
	for _, p := range paths {
		if err := c.add(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

type closure struct {
	dst  string
	seen map[string]bool
}

func (c *closure) add(ctx context.Context, p string) error {
	if !filepath.IsAbs(p) {
		return fmt.Errorf("copy %s: not an absolute path", p)
	}
	parent, err := filepath.EvalSymlinks(filepath.Dir(p))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	p = filepath.Join(parent, filepath.Base(p))
	if c.seen[p] {
		return nil
	}
	c.seen[p] = true
	fi, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	target := filepath.Join(c.dst, p)
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	switch {
	case fi.IsDir():
		if err := os.MkdirAll(target, 0o755); err != nil {
			return err
		}
		return os.Chmod(target, fi.Mode().Perm())
	case fi.Mode()&fs.ModeSymlink != 0:
		link, err := os.Readlink(p)
		if err != nil {
			return err
		}
		if _, err := os.Lstat(target); err != nil {
			if err := os.Symlink(link, target); err != nil {
				return err
			}
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(parent, link)
		}
		return c.add(ctx, link)
	case fi.Mode().IsRegular():
		if err := copyFile(p, target, fi.Mode().Perm()); err != nil {
			return err
		}
		if !isELF(p) {
			return nil
		}
		libs, err := ldd(ctx, p)
		if err != nil {
			return err
		}
		for _, l := range libs {
			if err := c.add(ctx, l); err != nil {
				return err
			}
		}
	}
	return nil
}

// bytecode lists the compiled forms of a Python source file: Debian compiles them at
// install time, so package lists omit them, and without them every start of the
// interpreter recompiles the modules it imports (seconds under TCG) because the sandbox
// cannot write the cache.
func bytecode(p string) []string {
	if !strings.HasSuffix(p, ".py") {
		return nil
	}
	pattern := filepath.Join(filepath.Dir(p), "__pycache__", strings.TrimSuffix(filepath.Base(p), ".py")+".cpython-*.pyc")
	m, _ := filepath.Glob(pattern)
	return m
}

func copyFile(src, dst string, perm fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer func() { _ = in.Close() }()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chmod(dst, perm)
}

func isELF(p string) bool {
	f, err := elf.Open(p)
	if err != nil {
		return false
	}
	_ = f.Close()
	return true
}

// ldd lists the absolute paths of the shared libraries (and the loader) p needs.
func ldd(ctx context.Context, p string) ([]string, error) {
	out, err := exec.CommandContext(ctx, "ldd", p).Output()
	if err != nil {
		return nil, nil // static, or not for this loader: nothing to add
	}
	var libs []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		for i, w := range f {
			if strings.HasPrefix(w, "/") && (i == 0 || f[i-1] == "=>") {
				libs = append(libs, w)
			}
		}
	}
	return libs, nil
}
