package sandboxtest

import (
	"errors"
	"io/fs"
	"os"
	"path"

	"github.com/google/go-cmp/cmp"
)

// The base image stays as it is: what an agent writes to the image's files fails or lands
// in a layer of its own session — another sandbox of the same image still reads the
// originals — and after Stop the image's tree on the host is unchanged, byte for byte.
func testBaseImage(h *harness) {
	im := newImageTree(h.t, h.agentBin)
	before := treeDigest(h.t, im.root)
	reader := h.startMarked(im.spec(h.t, h.opts))
	writer := h.startMarked(im.spec(h.t, h.opts))
	workDir := writer.spec.WorkDir

	tag := path.Base(im.dir)[len("data-"):]
	news := []string{im.dir + "/new.txt", "/srv/new-" + tag + ".txt", "/new-" + tag + ".txt"}
	targets := append([]string{"/agent", "/" + setuidName}, news...)
	if workDir != "" {
		rel := "new-rel-" + tag + ".txt" // relative to the working directory
		targets = append(targets, rel)
		news = append(news, path.Join(workDir, rel))
	}
	for p := range im.files {
		targets = append(targets, p)
		if path.Dir(p) == workDir {
			targets = append(targets, path.Base(p))
		}
	}
	for _, p := range targets {
		if path.IsAbs(p) && !guardHostPath(h, p) {
			continue
		}
		h.t.Logf("writing %s from inside: %s", p, h.write(writer, p, "changed by a sandbox\n"))
	}
	for p, content := range im.files {
		if r, got := h.read(reader, p); !r.OK || got != content {
			h.t.Errorf("another sandbox of the image reads %s as %q (%s) after a sandbox wrote it, want %q", p, got, r, content)
		}
	}
	for _, p := range news {
		if r, _ := h.read(reader, p); r.OK {
			h.t.Errorf("another sandbox of the image sees %s, which a sandbox created", p)
		}
	}
	h.stop(writer.started)
	h.stop(reader.started)
	if diff := cmp.Diff(before, treeDigest(h.t, im.root)); diff != "" {
		h.t.Errorf("the image's root filesystem on the host changed (-before +after):\n%s", diff)
	}
}

// guardHostPath prepares for a sandbox that, against the contract, writes the host's own
// absolute path p: it reports false (skip the attempt) if p exists on the host, and
// otherwise removes whatever appears there at cleanup.
func guardHostPath(h *harness, p string) bool {
	if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
		h.t.Logf("not writing %s from inside: the host has a file of that name", p)
		return false
	}
	h.t.Cleanup(func() { _ = os.Remove(p) })
	return true
}
