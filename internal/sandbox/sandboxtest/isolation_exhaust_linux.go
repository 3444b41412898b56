package sandboxtest

import (
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"berth.dev/berth/internal/sandbox"
)

// exhaust starts the sandbox to exhaust, with limits set on top of Options.Spec's, and
// another one that must keep answering; it returns both.
func (h *harness) exhaust(set func(*sandbox.Limits)) (victim, other *marked) {
	h.t.Helper()
	other = h.startMarked(sandbox.Spec{})
	spec := h.spec()
	set(&spec.Limits)
	return h.startMarked(spec), other
}

// stillAnswers fails unless s answers as the same agent and can still write a file.
func (h *harness) stillAnswers(s *marked, want agentID, after string) {
	h.t.Helper()
	select {
	case <-s.Done():
		h.t.Fatalf("the other sandbox exited after %s: %v", after, s.ExitErr())
	default:
	}
	if got := h.id(s); got.Nonce != want.Nonce {
		h.t.Errorf("the other sandbox answers as another agent after %s", after)
	}
	p := "/tmp/after-" + newTag()
	h.t.Cleanup(func() { _ = os.Remove(p) }) // were it the host's /tmp
	if r := h.write(s, p, "still here"); !r.OK {
		h.t.Errorf("the other sandbox cannot write a file after %s: %s", after, r.Error)
	}
}

// probeRaw posts a probe that may end the agent, and decodes its answer into out if it
// answered 200. It reports whether it did.
func (h *harness) probeRaw(s *marked, kind string, args map[string]any, out any) bool {
	h.t.Helper()
	op := map[string]any{"op": "probe", "probe": kind}
	for k, v := range args {
		op[k] = v
	}
	resp, err := post(h.t.Context(), s, op)
	if err != nil {
		h.t.Logf("probe %s: %v; the agent's stderr ends: %q", kind, err, tail(s.stderr.String(), 1000))
		return false
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		h.t.Logf("probe %s: status %d, %q, %v", kind, resp.StatusCode, body, err)
		return false
	}
	if err := json.Unmarshal(body, out); err != nil {
		h.t.Fatalf("probe %s: decode %q: %v", kind, body, err)
	}
	return true
}

// Allocating twice the memory limit ends the sandbox, and ExitErr says it ran out of
// memory; another sandbox keeps answering.
func testExhaustMemory(h *harness) {
	limit := h.limits().MemoryBytes
	victim, other := h.exhaust(func(l *sandbox.Limits) { l.MemoryBytes = limit })
	oid := h.id(other)
	var got struct {
		AllocatedMB int64 `json:"allocated_mb"`
	}
	if h.probeRaw(victim, "alloc", map[string]any{"mb": 2 * limit >> 20}, &got) {
		h.t.Fatalf("the agent allocated and touched %d MiB under a memory limit of %d MiB, and answered", got.AllocatedMB, limit>>20)
	}
	h.waitDone(victim, "allocating twice the memory limit")
	h.t.Logf("ExitErr() = %v", victim.ExitErr())
	if err := victim.ExitErr(); err == nil || !strings.Contains(err.Error(), "memory") {
		h.t.Errorf("ExitErr() = %v after the agent allocated twice its memory limit, want it to say it ran out of memory", err)
	}
	h.stillAnswers(other, oid, "another sandbox ran out of memory")
}

// A fork bomb stops at the pids limit; the host still forks, another sandbox keeps
// answering, and a new one starts. Before the bomb, the agent forks a quarter of the limit:
// the limit must leave room for the agent's own processes.
func testExhaustPids(h *harness) {
	limit := h.limits().Pids
	victim, other := h.exhaust(func(l *sandbox.Limits) { l.Pids = limit })
	oid := h.id(other)
	type forked struct {
		attempt
		Forked int64 `json:"forked"`
	}
	var few forked
	if !h.probeRaw(victim, "fork", map[string]any{"n": limit / 4}, &few) {
		h.waitDone(victim, "a fork probe that got no answer")
		h.t.Fatalf("forking %d children under a pids limit of %d ended the sandbox: %v", limit/4, limit, victim.ExitErr())
	}
	if !few.OK {
		h.t.Fatalf("the agent could fork only %d of %d children under a pids limit of %d: %s", few.Forked, limit/4, limit, few.attempt)
	}
	var bomb forked
	if h.probeRaw(victim, "fork", map[string]any{"n": 4 * limit}, &bomb) {
		h.t.Logf("the agent forked %d more children under a pids limit of %d, then: %s", bomb.Forked, limit, bomb.attempt)
		if bomb.OK || few.Forked+bomb.Forked >= limit {
			h.t.Errorf("the agent forked %d children in all (asked for %d) under a pids limit of %d", few.Forked+bomb.Forked, limit/4+4*limit, limit)
		}
	} else {
		h.waitDone(victim, "a fork probe that got no answer")
		h.t.Logf("the fork bomb ended the sandbox: %v", victim.ExitErr())
	}
	if out, err := exec.CommandContext(h.t.Context(), "/bin/sh", "-c", "echo forked").CombinedOutput(); err != nil {
		h.t.Errorf("the host cannot fork during the fork bomb: %v, %s", err, out)
	}
	h.stillAnswers(other, oid, "another sandbox's fork bomb")
	h.startMarked(sandbox.Spec{})
}

// Filling the writable layer (working directory, /tmp) ends in ENOSPC at the disk limit
// (within a quarter of it); the host's disk is untouched and another sandbox keeps
// writing.
func testExhaustDisk(h *harness) {
	limit := h.limits().DiskBytes
	victim, other := h.exhaust(func(l *sandbox.Limits) { l.DiskBytes = limit })
	oid := h.id(other)
	tag := newTag()
	files := []string{"fill-" + tag + ".bin", "/tmp/fill-" + tag + ".bin"}
	h.t.Cleanup(func() { _ = os.Remove(files[1]) }) // were it the host's /tmp
	usedBefore := dirUsage(h, h.opts.StateDir)
	freeBefore := hostFree(h)
	var total int64
	for _, f := range files {
		var got struct {
			attempt
			Written int64 `json:"written"`
		}
		h.probe(victim, "fill", map[string]any{"path": f, "mb": 2*limit>>20 + 16}, &got)
		h.t.Logf("filling %s: %d MiB written, then %s", f, got.Written>>20, got.attempt)
		switch {
		case f == files[0] && got.Written == 0 && readOnly(got.attempt):
			h.t.Logf("the working directory is not writable: only /tmp is filled")
		case got.OK:
			h.t.Errorf("the agent wrote %d MiB to %s under a disk limit of %d MiB", got.Written>>20, f, limit>>20)
		case got.Errno != "ENOSPC" && got.Errno != "EDQUOT":
			h.t.Errorf("filling %s stopped with %s, want ENOSPC", f, got.attempt)
		case got.Written > limit+limit/4:
			h.t.Errorf("the agent wrote %d MiB to %s before ENOSPC, under a disk limit of %d MiB", got.Written>>20, f, limit>>20)
		}
		total += got.Written
	}
	// What the agent wrote must not land on the host's disk (a quarter of it allows for a
	// driver's own small files).
	if grew := dirUsage(h, h.opts.StateDir) - usedBefore; grew > total/4 {
		h.t.Errorf("the driver's state directory on the host grew by %d MiB while the agent wrote %d MiB", grew>>20, total>>20)
	}
	const noise = 128 << 20 // other processes write to the host's disks too
	for dir, before := range freeBefore {
		if drop := before - hostFree(h)[dir]; drop > total/4+noise {
			h.t.Errorf("free space of the host's file system at %s dropped by %d MiB while the agent wrote %d MiB", dir, drop>>20, total>>20)
		}
	}
	h.stillAnswers(other, oid, "another sandbox filled its disk")
	h.ready(victim.started)
}

// dirUsage is the disk space (allocated blocks) of the files under dir on dir's own file
// system; 0 for "".
func dirUsage(h *harness, dir string) int64 {
	h.t.Helper()
	if dir == "" {
		return 0
	}
	var root syscall.Stat_t
	if err := syscall.Stat(dir, &root); err != nil {
		h.t.Fatal(err)
	}
	var used int64
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // sandboxes come and go
		}
		var st syscall.Stat_t
		if syscall.Lstat(p, &st) != nil {
			return nil
		}
		if st.Dev != root.Dev {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		used += st.Blocks * 512
		return nil
	})
	return used
}

// hostFree returns the free bytes of the file systems at the state directory, the
// temporary directory and /.
func hostFree(h *harness) map[string]int64 {
	h.t.Helper()
	out := map[string]int64{}
	for _, dir := range []string{h.opts.StateDir, os.TempDir(), "/"} {
		if dir == "" {
			continue
		}
		var st syscall.Statfs_t
		if err := syscall.Statfs(dir, &st); err != nil {
			h.t.Fatal(err)
		}
		out[dir] = int64(st.Bavail) * st.Bsize
	}
	return out
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	return s[max(len(s)-n, 0):]
}
