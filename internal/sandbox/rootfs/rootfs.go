package rootfs

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// SandboxUID and SandboxGID are the unprivileged identity agents run as ("nobody").
const (
	SandboxUID = 65534
	SandboxGID = 65534
)

// Bind is a host path mounted read-only at Target inside the sandbox.
type Bind struct {
	Source string
	Target string
}

// hostBinds are the host trees a code-zip sandbox borrows, in mount order.
var hostBinds = []Bind{
	{Source: "/usr", Target: "/usr"},
	{Source: "/etc/ssl", Target: "/etc/ssl"},
	{Source: "/etc/alternatives", Target: "/etc/alternatives"},
}

// HostBinds lists the read-only host mounts that complete the base, skipping sources this
// host does not have (every entry's Target exists in a base made by EnsureBase).
func HostBinds() []Bind {
	var out []Bind
	for _, b := range hostBinds {
		if fi, err := os.Stat(b.Source); err == nil && fi.IsDir() {
			out = append(out, b)
		}
	}
	return out
}

// MountPoints are the empty directories a base holds for the sandbox's own mounts.
var MountPoints = []string{"proc", "dev", "sys", "tmp", "usr", "etc/ssl", "etc/alternatives", "var/task", "var/tmp", "run", "home", "root"}

// files is the base's /etc.
var files = map[string]string{ //nolint:gosec // G101: a passwd file without passwords
	"etc/passwd":        "root:x:0:0:root:/root:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/tmp:/usr/sbin/nologin\n",
	"etc/group":         "root:x:0:\nnogroup:x:65534:\n",
	"etc/hosts":         "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
	"etc/hostname":      "sandbox\n",
	"etc/resolv.conf":   "nameserver 127.0.0.1\noptions ndots:0\n",
	"etc/nsswitch.conf": "passwd: files\ngroup: files\nhosts: files dns\n",
	"etc/os-release":    "NAME=\"Berth sandbox\"\nID=berth\n",
}

// symlinks make the base usr-merged, as Debian 12 is.
var symlinks = map[string]string{
	"bin":   "usr/bin",
	"sbin":  "usr/sbin",
	"lib":   "usr/lib",
	"lib64": "usr/lib64",
}

// EnsureBase creates or repairs the skeleton at dir. It is idempotent and safe to run while
// sandboxes use an existing base: files are replaced atomically and only when they differ.
func EnsureBase(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("base rootfs: %w", err)
	}
	for _, d := range append([]string{"etc"}, MountPoints...) {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return fmt.Errorf("base rootfs: %w", err)
		}
	}
	if err := os.Chmod(filepath.Join(dir, "tmp"), 0o1777|fs.ModeSticky); err != nil {
		return fmt.Errorf("base rootfs: %w", err)
	}
	for name, content := range files {
		if err := writeIfChanged(filepath.Join(dir, name), content); err != nil {
			return fmt.Errorf("base rootfs: %w", err)
		}
	}
	for name, target := range symlinks {
		p := filepath.Join(dir, name)
		if cur, err := os.Readlink(p); err == nil && cur == target {
			continue
		}
		tmp := p + ".tmp"
		_ = os.Remove(tmp)
		if err := os.Symlink(target, tmp); err != nil {
			return fmt.Errorf("base rootfs: %w", err)
		}
		if err := os.Rename(tmp, p); err != nil {
			return fmt.Errorf("base rootfs: %w", err)
		}
	}
	return nil
}

func writeIfChanged(path, content string) error {
	if b, err := os.ReadFile(path); err == nil && bytes.Equal(b, []byte(content)) {
		return nil
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
