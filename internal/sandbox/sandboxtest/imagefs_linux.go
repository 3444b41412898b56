package sandboxtest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"berth.dev/berth/internal/sandbox"
)

// setuidName is the setuid-root copy of the test agent that the suite places next to the
// agent: in the directory Options.Spec is given, and at the root of image trees.
const setuidName = "suid-agent"

// agentDir copies the test agent into a directory of its own, 0755, with a setuid-root
// copy named setuidName next to it, and returns the agent's path.
func agentDir(t *testing.T, agentBin string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil { //nolint:gosec // the sandbox user must read the agent's directory
		t.Fatal(err)
	}
	bin := filepath.Join(dir, filepath.Base(agentBin))
	copyFile(t, agentBin, bin, 0o755)
	placeSetuid(t, agentBin, filepath.Join(dir, setuidName))
	return bin
}

// placeSetuid copies bin to dst, owned by root, mode 04755.
func placeSetuid(t *testing.T, bin, dst string) {
	t.Helper()
	copyFile(t, bin, dst, 0o755)
	if err := os.Chown(dst, 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dst, 0o755|os.ModeSetuid); err != nil { //nolint:gosec // the point: a setuid-root binary the agent must not profit from
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = in.Close() }()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_EXCL, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// imageTree is an image root filesystem the suite built.
type imageTree struct {
	root string
	// files maps the sandbox path of each regular file the base-image case checks to its
	// content; names carry a random tag, so that they never name a file of the host.
	files map[string]string
	// dir is a world-writable directory of the image (mode 0777).
	dir string
}

// newImageTree builds an image tree like testagent.Image's layer (agent at /agent, srv and
// tmp 1777) plus a setuid-root copy of the agent at /suid-agent, a configuration file
// /etc/base-<tag>.conf (0644), a world-writable /srv/base-<tag>.txt (0666) and a
// world-writable directory /data-<tag> (0777) holding shared.txt (0666). Everything
// belongs to root.
func newImageTree(t *testing.T, agentBin string) *imageTree {
	t.Helper()
	root := t.TempDir()
	if err := os.Chmod(root, 0o755); err != nil { //nolint:gosec // an image's root is world-readable
		t.Fatal(err)
	}
	tag := newTag()
	im := &imageTree{root: root, dir: "/data-" + tag, files: map[string]string{
		"/srv/base-" + tag + ".txt":    "base image, world-writable file\n",
		"/etc/base-" + tag + ".conf":   "base image, root's file\n",
		"/data-" + tag + "/shared.txt": "base image, file in a world-writable directory\n",
	}}
	sticky := 0o777 | os.ModeSticky
	for dir, mode := range map[string]os.FileMode{"srv": sticky, "tmp": sticky, "etc": 0o755, im.dir[1:]: 0o777} {
		if err := os.Mkdir(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(root, dir), mode); err != nil {
			t.Fatal(err)
		}
	}
	for p, content := range im.files {
		mode := os.FileMode(0o666)
		if strings.HasPrefix(p, "/etc/") {
			mode = 0o644
		}
		if err := os.WriteFile(filepath.Join(root, p), []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(root, p), mode); err != nil { // umask
			t.Fatal(err)
		}
	}
	copyFile(t, agentBin, filepath.Join(root, "agent"), 0o755)
	placeSetuid(t, agentBin, filepath.Join(root, setuidName))
	return im
}

// spec returns the Spec that runs the agent of the tree (Options.ImageSpec, or the
// default) with a fresh ID.
func (im *imageTree) spec(t *testing.T, opts Options) sandbox.Spec {
	t.Helper()
	var spec sandbox.Spec
	if opts.ImageSpec != nil {
		spec = opts.ImageSpec(t, im.root)
	} else {
		spec = sandbox.Spec{
			RootFS:  im.root,
			Command: []string{"/agent"},
			WorkDir: "/srv",
			Env:     []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/"},
		}
	}
	spec.ID = newID()
	return spec
}

// treeDigest describes everything about the tree at root that a sandbox could change:
// for every path, its type, mode, owner, size, extended attributes' names, and its
// content's SHA-256 (or its link target).
func treeDigest(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	r, err := os.OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Close() }()
	err = filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		var uid, gid uint32
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			uid, gid = st.Uid, st.Gid
		}
		rel, _ := filepath.Rel(root, p)
		d := fmt.Sprintf("%v %d:%d %d bytes, xattrs [%s]", fi.Mode(), uid, gid, fi.Size(), xattrNames(p))
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			d += " -> " + target
		case fi.Mode().IsRegular():
			f, err := r.Open(rel)
			if err != nil {
				return err
			}
			h := sha256.New()
			_, err = io.Copy(h, f)
			_ = f.Close()
			if err != nil {
				return err
			}
			d += " sha256 " + hex.EncodeToString(h.Sum(nil))
		}
		out[rel] = d
		return nil
	})
	if err != nil {
		t.Fatalf("digest %s: %v", root, err)
	}
	return out
}

// xattrNames lists the extended attributes of p, sorted (overlayfs marks lower trees it
// used with trusted.overlay.* attributes, which count as a change).
func xattrNames(p string) string {
	buf := make([]byte, 4096)
	n, err := syscall.Listxattr(p, buf)
	if err != nil || n <= 0 {
		return ""
	}
	names := strings.Split(strings.TrimRight(string(buf[:n]), "\x00"), "\x00")
	slices.Sort(names)
	return strings.Join(names, ",")
}
