package harness

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

func TestReadProcMemory_Self(t *testing.T) {
	m, err := ReadProcMemory(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if m.RSS <= 0 || m.Peak < m.RSS || m.RSSAnon <= 0 || m.RSSAnon+m.RSSFile+m.RSSShmem != m.RSS {
		t.Errorf("memory of this test = %+v: want RSS > 0, Peak ≥ RSS, and RssAnon+RssFile+RssShmem = VmRSS", m)
	}
	if _, err := ReadProcMemory(-1); err == nil {
		t.Error("ReadProcMemory(-1) succeeded")
	}
}

func TestDescendants_FindsGrandchildren(t *testing.T) {
	// sh starts sleep in the background and waits: sleep is a grandchild of this test.
	cmd := exec.Command("sh", "-c", "sleep 30 & echo started; wait")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		kids, _ := Descendants(cmd.Process.Pid)
		for _, p := range kids {
			if pr, err := os.FindProcess(p); err == nil {
				_ = pr.Kill()
			}
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	buf := make([]byte, 8)
	if _, err := out.Read(buf); err != nil {
		t.Fatal(err)
	}
	pids, err := Descendants(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(pids, cmd.Process.Pid) {
		t.Fatalf("Descendants lacks the child %d: %v", cmd.Process.Pid, pids)
	}
	var sleep bool
	for _, p := range pids {
		if exe, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(p), "exe")); err == nil && filepath.Base(exe) == "sleep" {
			sleep = true
		}
	}
	if !sleep {
		t.Errorf("Descendants %v holds no sleep process (the grandchild)", pids)
	}
}

func TestHostMemory_Used(t *testing.T) {
	h := HostMemory{Total: 100, Free: 20, Buffers: 5, Cached: 30, Shmem: 10, SReclaimable: 5}
	if got, want := h.Used(), int64(100-20-5-(30-10)-5); got != want {
		t.Errorf("Used() = %d, want %d", got, want)
	}
	real, err := ReadHostMemory()
	if err != nil {
		t.Fatal(err)
	}
	if real.Total <= 0 || real.Used() <= 0 || real.Used() > real.Total {
		t.Errorf("host memory %+v: used %d out of range", real, real.Used())
	}
}

func TestKB(t *testing.T) {
	for in, want := range map[string]int64{"   1234 kB": 1234 << 10, "0 kB": 0, "x": 0, " 7": 7 << 10} {
		if got := kb(in); got != want {
			t.Errorf("kb(%q) = %d, want %d", in, got, want)
		}
	}
}
