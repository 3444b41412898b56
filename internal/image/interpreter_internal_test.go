package image

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"berth.dev/berth/internal/errdefs"
)

// scriptedHost builds search directories holding shell scripts that behave like
// interpreters: each records its run in a log and prints the executable and version it
// "is". They are real programs run by the real probe, standing in for a host's Pythons and
// Nodes, whose versions differ from machine to machine.
type scriptedHost struct {
	t   *testing.T
	log string
}

func newScriptedHost(t *testing.T) *scriptedHost {
	t.Helper()
	return &scriptedHost{t: t, log: filepath.Join(t.TempDir(), "runs.log")}
}

// add writes an interpreter script at dir/name answering exe and ver, or failing with exit
// status 127 (like a pyenv shim of an unselected version) when ver is "".
func (s *scriptedHost) add(dir, name, exe, ver string) string {
	s.t.Helper()
	p := filepath.Join(dir, name)
	check := `[ "$1" = -I ] && [ "$2" = -S ] && [ "$3" = -c ] || exit 3`
	if strings.HasPrefix(name, "node") {
		check = `[ "$1" = -e ] || exit 3`
	}
	body := fmt.Sprintf("#!/bin/sh\necho %q >> %q\n%s\n", p, s.log, check)
	if ver == "" {
		body += "echo 'pyenv: command not found' >&2\nexit 127\n"
	} else {
		body += fmt.Sprintf("printf '%%s\\n%%s\\n' %q %q\n", exe, ver)
	}
	if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
		s.t.Fatal(err)
	}
	return p
}

// runs returns how many times each script has run.
func (s *scriptedHost) runs() map[string]int {
	s.t.Helper()
	b, err := os.ReadFile(s.log)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]int{}
	}
	if err != nil {
		s.t.Fatal(err)
	}
	n := map[string]int{}
	for line := range strings.FieldsSeq(string(b)) {
		n[line]++
	}
	return n
}

// standardHost is a pyenv-like directory first (python3 is 3.11.7, python3.12 a failing
// shim, node 20) and a system directory second (3.11 and 3.13, plus files that are not
// interpreters).
func standardHost(t *testing.T) (s *scriptedHost, d1, d2 string) {
	s = newScriptedHost(t)
	d1, d2 = t.TempDir(), t.TempDir()
	s.add(d1, "python3", "/py/3.11.7/bin/python3", "3.11.7")
	s.add(d1, "python3.12", "", "")
	s.add(d1, "node", "/nodes/20/bin/node", "20.1.0")
	s.add(d2, "python3.11", "/usr/bin/python3.11", "3.11.2")
	s.add(d2, "python3.13", "/usr/bin/python3.13", "3.13.0")
	s.add(d2, "python3.11-config", "/usr/bin/python3.11-config", "3.11.2")
	s.add(d2, "python3x", "/usr/bin/python3x", "3.11.2")
	if err := os.WriteFile(filepath.Join(d2, "python3.14"), []byte("not executable"), 0o644); err != nil {
		t.Fatal(err)
	}
	return s, d1, d2
}

func TestHostInterpreters_Find_Scripted(t *testing.T) {
	tests := []struct {
		runtime   string
		wantPath  string
		wantVer   string
		wantExact bool
		wantRuns  []string // scripts run, relative to "d1/" and "d2/"
	}{
		{"PYTHON_3_11", "/usr/bin/python3.11", "3.11.2", true, []string{"d2/python3.11"}},
		{"PYTHON_3_13", "/usr/bin/python3.13", "3.13.0", true, []string{"d2/python3.13"}},
		// The python3.12 shim fails, so every candidate is probed; 3.11 and 3.13 are
		// equally near and the newer wins.
		{"PYTHON_3_12", "/usr/bin/python3.13", "3.13.0", false,
			[]string{"d1/python3", "d1/python3.12", "d2/python3.11", "d2/python3.13"}},
		// Two 3.11s: the one found first on the search path wins. Binaries named two or
		// more minor versions away are not run once a 3.11 has answered.
		{"PYTHON_3_10", "/py/3.11.7/bin/python3", "3.11.7", false, []string{"d1/python3", "d2/python3.11"}},
		{"PYTHON_3_14", "/usr/bin/python3.13", "3.13.0", false, []string{"d1/python3", "d2/python3.13"}},
		{"NODE_20", "/nodes/20/bin/node", "20.1.0", true, []string{"d1/node"}},
		{"NODE_22", "/nodes/20/bin/node", "20.1.0", false, []string{"d1/node"}},
		{"NODE_18", "/nodes/20/bin/node", "20.1.0", false, []string{"d1/node"}},
	}
	for _, tt := range tests {
		t.Run(tt.runtime, func(t *testing.T) {
			s, d1, d2 := standardHost(t)
			h := newHostInterpreters([]string{d1, d2})
			path, ver, exact, err := h.Find(tt.runtime)
			if err != nil {
				t.Fatalf("Find: %v", err)
			}
			if path != tt.wantPath || ver != tt.wantVer || exact != tt.wantExact {
				t.Errorf("Find = %s %s exact=%v; want %s %s exact=%v", path, ver, exact, tt.wantPath, tt.wantVer, tt.wantExact)
			}
			want := map[string]int{}
			for _, r := range tt.wantRuns {
				want[strings.NewReplacer("d1", d1, "d2", d2).Replace(r)] = 1
			}
			if diff := cmp.Diff(want, s.runs()); diff != "" {
				t.Errorf("scripts run (-want +got):\n%s", diff)
			}
		})
	}
}

// TestHostInterpreters_Find_Cached checks that each binary runs at most once, and that a
// second round of lookups runs nothing at all.
func TestHostInterpreters_Find_Cached(t *testing.T) {
	s, d1, d2 := standardHost(t)
	h := newHostInterpreters([]string{d1, d2})
	all := []string{"PYTHON_3_10", "PYTHON_3_11", "PYTHON_3_12", "PYTHON_3_13", "PYTHON_3_14", "NODE_18", "NODE_20", "NODE_22"}
	type answer struct {
		Path, Ver string
		Exact     bool
	}
	first := map[string]answer{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 4 {
		for _, rt := range all {
			wg.Go(func() {
				p, v, e, err := h.Find(rt)
				if err != nil {
					t.Errorf("Find(%s): %v", rt, err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				if prev, ok := first[rt]; ok && prev != (answer{p, v, e}) {
					t.Errorf("Find(%s) = %v, earlier %v", rt, answer{p, v, e}, prev)
				}
				first[rt] = answer{p, v, e}
			})
		}
	}
	wg.Wait()
	afterFirst := s.runs()
	for script, n := range afterFirst {
		if n != 1 {
			t.Errorf("%s ran %d times; want at most once", script, n)
		}
	}
	for _, name := range []string{"python3.11-config", "python3x"} {
		if p := filepath.Join(d2, name); afterFirst[p] != 0 {
			t.Errorf("%s is not an interpreter name but was run", p)
		}
	}
	for _, rt := range all {
		if _, _, _, err := h.Find(rt); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff(afterFirst, s.runs()); diff != "" {
		t.Errorf("second round ran interpreters (-before +after):\n%s", diff)
	}
}

// TestHostInterpreters_Find_NoneThenInstalled checks the error for a host without Python,
// that a failure is not cached, and that a success is.
func TestHostInterpreters_Find_NoneThenInstalled(t *testing.T) {
	s := newScriptedHost(t)
	dir := t.TempDir()
	h := newHostInterpreters([]string{dir})

	_, _, _, err := h.Find("PYTHON_3_12")
	if !errors.Is(err, errdefs.ErrUnavailable) {
		t.Fatalf("Find on an empty host = %v; want ErrUnavailable", err)
	}
	if r := FailureReason(err); !strings.HasPrefix(r, "no Python interpreter found on this host; install python3 (searched "+dir) {
		t.Errorf("FailureReason = %q", r)
	}
	if _, _, _, err := h.Find("NODE_22"); !errors.Is(err, errdefs.ErrUnavailable) ||
		!strings.HasPrefix(FailureReason(err), "no Node.js interpreter found on this host; install nodejs") {
		t.Errorf("Find(NODE_22) on an empty host = %v", err)
	}

	py := s.add(dir, "python3", "/opt/py/bin/python3.12", "3.12.9")
	path, ver, exact, err := h.Find("PYTHON_3_12")
	if err != nil || path != "/opt/py/bin/python3.12" || ver != "3.12.9" || !exact {
		t.Fatalf("Find after installing = %s %s %v %v", path, ver, exact, err)
	}
	if err := os.Remove(py); err != nil {
		t.Fatal(err)
	}
	if path2, _, _, err := h.Find("PYTHON_3_12"); err != nil || path2 != path {
		t.Errorf("Find after removing = %s, %v; want the cached %s", path2, err, path)
	}
	if n := s.runs()[py]; n != 1 {
		t.Errorf("python3 ran %d times; want 1", n)
	}
}

// TestHostInterpreters_Find_FarVersion checks that the rings reach a binary named far from
// the request when nothing nearer exists.
func TestHostInterpreters_Find_FarVersion(t *testing.T) {
	s := newScriptedHost(t)
	dir := t.TempDir()
	s.add(dir, "python3.8", "/opt/py38/bin/python3.8", "3.8.18")
	s.add(dir, "python3.9", "", "") // a shim that fails
	h := newHostInterpreters([]string{dir})
	path, ver, exact, err := h.Find("PYTHON_3_14")
	if err != nil || path != "/opt/py38/bin/python3.8" || ver != "3.8.18" || exact {
		t.Errorf("Find(PYTHON_3_14) = %s %s %v %v; want the 3.8 interpreter, not exact", path, ver, exact, err)
	}
}

func TestHostInterpreters_Find_UnknownRuntime(t *testing.T) {
	h := newHostInterpreters(nil)
	for _, rt := range []string{"", "PYTHON_3_9", "python_3_12", "NODE_24", "JAVA_21"} {
		if _, _, _, err := h.Find(rt); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("Find(%q) = %v; want ErrInvalidArgument", rt, err)
		}
	}
}

func TestHostInterpreters_FindTool(t *testing.T) {
	s := newScriptedHost(t)
	d1, d2 := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(d1, "otel"), []byte("x"), 0o644); err != nil { // not executable
		t.Fatal(err)
	}
	want := s.add(d2, "otel", "", "")
	h := newHostInterpreters([]string{d1, d2})
	if got, err := h.FindTool("otel"); err != nil || got != want {
		t.Errorf("FindTool(otel) = %q, %v; want %q", got, err, want)
	}
	if _, err := h.FindTool("missing"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("FindTool(missing) = %v; want ErrNotFound", err)
	}
	if _, err := h.FindTool("../otel"); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("FindTool(../otel) = %v; want ErrInvalidArgument", err)
	}
	if n := len(s.runs()); n != 0 {
		t.Errorf("FindTool ran %d programs; want none", n)
	}
}

func TestSearchDirs(t *testing.T) {
	base := t.TempDir()
	a, b := filepath.Join(base, "a"), filepath.Join(base, "b")
	for _, d := range []string{a, b} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(base, "link-to-a")
	if err := os.Symlink(a, link); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	pathEnv := strings.Join([]string{"", "relative/bin", ".", a, link, filepath.Join(base, "missing"), file, b + "/", a}, ":")
	var want []string
	want = append(want, a, b)
	for _, d := range extraSearchDirs {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			want = append(want, d)
		}
	}
	if diff := cmp.Diff(want, searchDirs(pathEnv)); diff != "" {
		t.Errorf("searchDirs (-want +got):\n%s", diff)
	}
	// A PATH that already holds the extra directories does not repeat them.
	got := searchDirs(strings.Join(append(slices.Clone(extraSearchDirs), extraSearchDirs...), ":"))
	seen := map[string]bool{}
	for _, d := range got {
		if seen[d] {
			t.Errorf("searchDirs repeats %s: %v", d, got)
		}
		seen[d] = true
	}
}

func TestClosest(t *testing.T) {
	py := func(minor int, path string) interpreter {
		return interpreter{path: path, v: version{major: 3, minor: minor, text: fmt.Sprintf("3.%d.0", minor)}}
	}
	node := func(major int) interpreter {
		return interpreter{path: "node", v: version{major: major, text: fmt.Sprintf("%d.0.0", major)}}
	}
	py2 := interpreter{path: "py2", v: version{major: 2, minor: 7}}
	tests := []struct {
		name     string
		runtime  string
		ins      []interpreter
		wantPath string // "" means none usable
	}{
		{"exact among others", "PYTHON_3_12", []interpreter{py(10, "a"), py(12, "b"), py(13, "c")}, "b"},
		{"nearest below", "PYTHON_3_14", []interpreter{py(10, "a"), py(12, "b")}, "b"},
		{"nearest above", "PYTHON_3_10", []interpreter{py(13, "a"), py(12, "b")}, "b"},
		{"tie prefers newer", "PYTHON_3_12", []interpreter{py(11, "a"), py(13, "b")}, "b"},
		{"tie prefers newer in either order", "PYTHON_3_12", []interpreter{py(13, "b"), py(11, "a")}, "b"},
		{"same version prefers first", "PYTHON_3_12", []interpreter{py(11, "first"), py(11, "second")}, "first"},
		{"far but only one", "PYTHON_3_14", []interpreter{py(6, "old")}, "old"},
		{"python 2 is unusable", "PYTHON_3_10", []interpreter{py2}, ""},
		{"python 2 is skipped", "PYTHON_3_10", []interpreter{py2, py(11, "a")}, "a"},
		{"none", "PYTHON_3_12", nil, ""},
		{"node exact", "NODE_20", []interpreter{node(18), node(20), node(22)}, "node"},
		{"node nearest", "NODE_22", []interpreter{node(18), node(20)}, "node"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt, err := parseRuntime(tt.runtime)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := closest(rt, tt.ins)
			if tt.wantPath == "" {
				if ok {
					t.Errorf("closest = %+v; want none", got)
				}
				return
			}
			if !ok || got.path != tt.wantPath {
				t.Errorf("closest = %+v, %v; want %s", got, ok, tt.wantPath)
			}
		})
	}
	// The node cases share a path; check the version chosen.
	rt, _ := parseRuntime("NODE_22")
	if got, _ := closest(rt, []interpreter{node(18), node(20), node(24)}); got.v.major != 24 {
		t.Errorf("closest to NODE_22 among 18, 20, 24 = %d; want 24 (tie: newer)", got.v.major)
	}
}

func TestParseVersion(t *testing.T) {
	tests := []struct {
		in      string
		want    version
		wantErr bool
	}{
		{"3.11.2", version{3, 11, "3.11.2"}, false},
		{"3.13.0rc1\n", version{3, 13, "3.13.0rc1"}, false},
		{"3.14", version{3, 14, "3.14"}, false},
		{"v20.20.2", version{20, 20, "20.20.2"}, false},
		{"3.12b1", version{3, 12, "3.12b1"}, false},
		{"3", version{}, true},
		{"Python 3.11.2", version{}, true},
		{"x.y", version{}, true},
		{"3.x", version{}, true},
		{"", version{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseVersion(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseVersion(%q) error = %v; wantErr %v", tt.in, err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(version{}), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("parseVersion(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}
