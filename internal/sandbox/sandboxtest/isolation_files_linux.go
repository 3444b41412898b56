package sandboxtest

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"berth.dev/berth/internal/sandbox"
)

// sessionFiles are files a sandbox writes: one in /tmp and, if its working directory is
// writable (the contract does not require it: a code tree may be mounted read-only), one
// there.
type sessionFiles struct {
	tmp, rel string // "/tmp/sbxtest-<tag>", "sbxtest-<tag>.txt"
	content  string
	relOK    bool // rel was written
}

// written lists the files that were written.
func (f sessionFiles) written() []string {
	if f.relOK {
		return []string{f.tmp, f.rel}
	}
	return []string{f.tmp}
}

func newSessionFiles(h *harness) sessionFiles {
	tag := newTag()
	f := sessionFiles{tmp: "/tmp/sbxtest-" + tag, rel: "sbxtest-" + tag + ".txt", content: "written by " + rand.Text()}
	// Were a sandbox to write to the host's own /tmp, the file must not outlive the test.
	h.t.Cleanup(func() { _ = os.Remove(f.tmp) })
	return f
}

// write writes the files inside s.
func (f *sessionFiles) write(h *harness, s *marked) {
	h.t.Helper()
	f.relOK = true
	for _, p := range []string{f.tmp, f.rel} {
		r := h.write(s, p, f.content)
		if !r.OK && p == f.rel && readOnly(r) {
			h.t.Logf("the working directory is not writable (%s): only /tmp is checked", r.Error)
			f.relOK = false
			continue
		}
		if !r.OK {
			h.t.Fatalf("sandbox cannot write its own %s: %s", p, r.Error)
		}
		if r, got := h.read(s, p); !r.OK || got != f.content {
			h.t.Fatalf("sandbox reads its own %s back as %q (%s), want %q", p, got, r, f.content)
		}
	}
}

// readOnly reports whether a failed attempt says the file system or directory is not
// writable.
func readOnly(a attempt) bool {
	return a.Errno == "EACCES" || a.Errno == "EROFS" || a.Errno == "EPERM"
}

// Another session's files, in /tmp and in its working directory, are out of reach: under
// the same paths, under the host paths where they live, through /proc/<pid>/root.
func testOtherSessionFiles(h *harness) {
	a, b := h.startMarked(sandbox.Spec{}), h.startMarked(sandbox.Spec{})
	aid := h.id(a)
	files := newSessionFiles(h)
	files.write(h, a)
	cwdFile := path.Join(aid.Cwd, files.rel)
	guesses := []string{files.tmp, cwdFile}
	if h.opts.StateDir != "" {
		guesses = append(guesses, findNamed(h, h.opts.StateDir, path.Base(files.tmp), files.rel)...)
	}
	for _, pid := range hostPIDs(a.mark) {
		guesses = append(guesses,
			fmt.Sprintf("/proc/%d/root%s", pid, files.tmp),
			fmt.Sprintf("/proc/%d/root%s", pid, cwdFile),
			fmt.Sprintf("/proc/%d/cwd/%s", pid, files.rel))
	}
	for _, p := range guesses {
		if r, got := h.read(b, p); r.OK && strings.Contains(got, files.content) {
			h.t.Errorf("sandbox B read sandbox A's file at %s", p)
		}
	}
	if dir := h.opts.StateDir; dir != "" {
		for _, d := range []string{dir, filepath.Join(dir, a.spec.ID)} {
			if r, names := h.list(b, d); r.OK && (slices.Contains(names, a.spec.ID) || slices.Contains(names, files.rel)) {
				h.t.Errorf("sandbox B lists the driver's state directory %s and sees sandbox A there: %v", d, names)
			}
		}
	}
	for _, p := range guesses {
		h.write(b, p, "written by B")
	}
	for _, p := range files.written() {
		if r, got := h.read(a, p); !r.OK || got != files.content {
			h.t.Errorf("sandbox A's %s is %q (%s) after sandbox B wrote to every path it could guess, want %q", p, got, r, files.content)
		}
	}
}

// findNamed returns the host paths under dir whose base name is one of names (where a
// driver keeps a sandbox's files on the host, if it does), without crossing into other
// file systems.
func findNamed(h *harness, dir string, names ...string) []string {
	h.t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
				return nil // a sandbox's directory may come and go, or be closed to us
			}
			return err
		}
		if slices.Contains(names, filepath.Base(p)) {
			found = append(found, p)
		}
		return nil
	})
	if err != nil {
		h.t.Fatalf("search %s: %v", dir, err)
	}
	return found
}

// After Stop nothing a session wrote is left on the host (state directory, mounts, the
// host's /tmp), and a new sandbox with the same ID starts clean.
func testLeftovers(h *harness) {
	before := h.stateDir()
	spec := h.spec()
	a := h.startMarked(spec)
	aid := h.id(a)
	files := newSessionFiles(h)
	files.write(h, a)
	var procs []proc
	for _, pid := range hostPIDs(a.mark) {
		procs = append(procs, h.hostProc(pid))
	}
	h.stop(a.started)
	for _, p := range procs {
		h.checkGone(p, "process of the stopped sandbox")
	}
	h.checkStateDir(before, "Stop")
	if m := mountsMentioning(h.t, spec.ID); len(m) > 0 {
		h.t.Errorf("mounts of the stopped sandbox %s remain on the host:\n%s", spec.ID, strings.Join(m, "\n"))
	}
	if _, err := os.Stat(files.tmp); err == nil {
		h.t.Errorf("the sandbox's %s is in the host's /tmp", files.tmp)
	}

	again := h.startMarked(spec) // the same ID
	for _, p := range []string{files.tmp, files.rel, path.Join(aid.Cwd, files.rel)} {
		if r, got := h.read(again, p); r.OK && got == files.content {
			h.t.Errorf("a new sandbox with the same ID reads the old one's %s: %q", p, got)
		}
	}
	// Stopping the old handle again must leave the new sandbox alone.
	h.stop(a.started)
	if r := h.write(again, files.tmp, "new"); !r.OK {
		h.t.Errorf("the new sandbox cannot write after the old handle was stopped again: %s", r.Error)
	}
}
