package cgroup

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func newManager(t *testing.T) *Manager {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("cgroup tests need root to write the cgroup tree")
	}
	m, err := New()
	if err != nil {
		t.Skipf("no usable cgroup hierarchy here: %v", err)
	}
	return m
}

func TestGroup_LimitsStatsDestroy(t *testing.T) {
	m := newManager(t)
	name := "berth-test/" + strconv.Itoa(os.Getpid()) + "-" + t.Name()
	g, err := m.Create(name, Limits{CPUs: 0.5, MemoryBytes: 64 << 20, Pids: 16})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	t.Cleanup(func() { _ = g.Destroy(context.Background()); _ = os.Remove(filepath.Dir(g.dir("pids"))) })

	// A shell that burns CPU in a loop, placed in the group.
	cmd := exec.Command("/bin/sh", "-c", "while :; do :; done")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait() }()
	if err := g.AddProc(cmd.Process.Pid); err != nil {
		_ = cmd.Process.Kill()
		t.Fatal(err)
	}
	procs, err := g.Procs()
	if err != nil || len(procs) != 1 || procs[0] != cmd.Process.Pid {
		t.Fatalf("Procs = %v, %v; want [%d]", procs, err, cmd.Process.Pid)
	}
	time.Sleep(400 * time.Millisecond)
	st, err := g.Stats()
	if err != nil {
		t.Fatal(err)
	}
	// Half a core for 400 ms is at most ~200 ms of CPU (plus one CFS period of slack).
	if st.CPUTime <= 0 || st.CPUTime > 320*time.Millisecond {
		t.Errorf("CPUTime = %v after 400 ms under a 0.5-core quota", st.CPUTime)
	}
	// v1 does not move the shell's earlier charges with it, so memory may read 0 here.
	if st.MemoryBytes < 0 || st.MemoryPeakBytes < st.MemoryBytes || st.Pids != 1 {
		t.Errorf("Stats = %+v", st)
	}
	if err := g.Destroy(ctx); err != nil {
		t.Fatal(err)
	}
	for _, d := range g.dirs() {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("%s still exists after Destroy (%v)", d, err)
		}
	}
	// Destroying a group that is gone is fine.
	if err := g.Destroy(ctx); err != nil {
		t.Errorf("second Destroy: %v", err)
	}
}

func TestGroup_PidsLimit(t *testing.T) {
	m := newManager(t)
	name := "berth-test/" + strconv.Itoa(os.Getpid()) + "-" + t.Name()
	g, err := m.Create(name, Limits{Pids: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Destroy(context.Background()) })
	// The shell joins the group itself before forking, so every child is counted.
	cmd := exec.Command("/bin/sh", "-c", `echo $$ > "$1"/cgroup.procs; for i in 1 2 3 4 5 6; do sleep 5 & done 2>/dev/null; wait`, "sh", g.dir("pids"))
	_ = cmd.Start()
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	// dash gives up on the first refused fork; pids.events counts the refusal.
	deadline := time.Now().Add(5 * time.Second)
	for {
		kv, err := readKV(filepath.Join(g.dir("pids"), "pids.events"))
		if err != nil {
			t.Fatal(err)
		}
		if kv["max"] > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no fork was refused under pids.max=4")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if st, err := g.Stats(); err != nil || st.Pids > 4 {
		t.Fatalf("Stats = %+v, %v; want at most 4 tasks", st, err)
	}
	if err := g.Destroy(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-done
}

func TestNew_ParsesHybridV1(t *testing.T) {
	dir := t.TempDir()
	mi := filepath.Join(dir, "mountinfo")
	content := "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n" +
		"33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n" +
		"35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n" +
		"39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n" +
		"41 31 0:38 / " + filepath.Join(dir, "unified") + " rw,relatime - cgroup2 cgroup2 rw\n"
	if err := os.WriteFile(mi, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := newFrom(mi)
	if err != nil {
		t.Fatal(err)
	}
	if m.Version() != 1 || m.v1["cpuacct"] != "/sys/fs/cgroup/cpuacct" {
		t.Fatalf("got %+v", m)
	}
	// Without pids, v1 is not enough.
	if err := os.WriteFile(mi, []byte(content[:len(content)-len("39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n")-len("41 31 0:38 / "+filepath.Join(dir, "unified")+" rw,relatime - cgroup2 cgroup2 rw\n")]), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := newFrom(mi); err == nil {
		t.Fatal("want an error when the pids controller is missing")
	}
}
