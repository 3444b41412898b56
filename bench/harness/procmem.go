package harness

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ProcMemory is a process's resident memory from /proc/<pid>/status, in bytes.
type ProcMemory struct {
	RSS      int64 // VmRSS: resident now
	Peak     int64 // VmHWM: the high-water mark of VmRSS
	RSSAnon  int64 // RssAnon: private anonymous pages (heap, stacks)
	RSSFile  int64 // RssFile: file-backed pages (program text, mapped files; page cache)
	RSSShmem int64 // RssShmem: shared memory and tmpfs pages
}

// ReadProcMemory reads the resident memory of pid from /proc/<pid>/status.
func ReadProcMemory(pid int) (ProcMemory, error) {
	var m ProcMemory
	err := readKB(fmt.Sprintf("/proc/%d/status", pid), map[string]*int64{
		"VmRSS": &m.RSS, "VmHWM": &m.Peak, "RssAnon": &m.RSSAnon, "RssFile": &m.RSSFile, "RssShmem": &m.RSSShmem,
	})
	if err != nil {
		return m, fmt.Errorf("read memory of %d: %w", pid, err)
	}
	return m, nil
}

// Descendants returns the pids of every living process below pid (children, their
// children, …), read from /proc/*/stat.
func Descendants(pid int) ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	children := map[int][]int{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // exited meanwhile
		}
		// pid (comm) state ppid …; comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(raw, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(raw[i+1:]))
		if len(fields) < 2 {
			continue
		}
		ppid, err := strconv.Atoi(fields[1])
		if err != nil {
			continue
		}
		children[ppid] = append(children[ppid], p)
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out, nil
}

// ServerMemory is ReadProcMemory of the berth server.
func (e *Env) ServerMemory() (ProcMemory, error) { return ReadProcMemory(e.ServerPID) }

// kb parses "  1234 kB" into bytes (0 when unparsable).
func kb(v string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
	if err != nil {
		return 0
	}
	return n << 10
}

// HostMemory is /proc/meminfo in bytes.
type HostMemory struct {
	Total, Free, Available, Buffers, Cached, Shmem, SReclaimable int64
}

// Used is what `free` calls used: total minus free, buffers, page cache and reclaimable
// slab (shmem, i.e. tmpfs, stays counted as used).
func (h HostMemory) Used() int64 {
	return h.Total - h.Free - h.Buffers - (h.Cached - h.Shmem) - h.SReclaimable
}

// ReadHostMemory reads /proc/meminfo.
func ReadHostMemory() (HostMemory, error) {
	var h HostMemory
	err := readKB("/proc/meminfo", map[string]*int64{
		"MemTotal": &h.Total, "MemFree": &h.Free, "MemAvailable": &h.Available, "Buffers": &h.Buffers,
		"Cached": &h.Cached, "Shmem": &h.Shmem, "SReclaimable": &h.SReclaimable,
	})
	if err != nil {
		return h, fmt.Errorf("read meminfo: %w", err)
	}
	return h, nil
}

// readKB reads a /proc file of "Key:   1234 kB" lines into the fields named in into.
func readKB(path string, into map[string]*int64) error {
	raw, err := os.ReadFile(path) //nolint:gosec // a /proc file
	if err != nil {
		return err
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && into[k] != nil {
			*into[k] = kb(v)
		}
	}
	return nil
}
