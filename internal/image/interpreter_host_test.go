package image_test

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"berth.dev/berth/internal/image"
)

// versionOf runs "<bin> --version" and returns what follows the prefix ("Python ", "v").
func versionOf(t *testing.T, bin, prefix string) (string, bool) {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), bin, "--version").CombinedOutput()
	if err != nil {
		return "", false
	}
	v, ok := strings.CutPrefix(strings.TrimSpace(string(out)), prefix)
	return v, ok
}

// majorMinor splits "3.11.2" into 3 and 11.
func majorMinor(t *testing.T, v string) (int, int) {
	t.Helper()
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		t.Fatalf("version %q is not major.minor[.patch]", v)
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		t.Fatalf("version %q is not numeric", v)
	}
	return major, minor
}

func hostHasPython() bool {
	if _, err := exec.LookPath("python3"); err == nil {
		return true
	}
	_, err := os.Stat("/usr/bin/python3")
	return err == nil
}

func absDiff(a, b int) int {
	if a < b {
		return b - a
	}
	return a - b
}

// TestHostInterpreters_Find_ThisHost checks the real lookup against what this machine has,
// without assuming which versions those are: every answer must be what the binary itself
// reports, exact exactly when the version matches, and no nearer version may have been
// passed over.
func TestHostInterpreters_Find_ThisHost(t *testing.T) {
	if !hostHasPython() {
		t.Skip("no python3 on this host")
	}
	h := image.HostInterpreters()
	if h != image.HostInterpreters() {
		t.Error("HostInterpreters returns a new value per call; its cache would be lost")
	}
	type answer struct {
		path, ver    string
		exact        bool
		major, minor int
	}
	check := func(t *testing.T, runtimes []string, prefix string, want func(rt string) int, got func(a answer) int) map[string]answer {
		answers := map[string]answer{}
		for _, rt := range runtimes {
			path, ver, exact, err := h.Find(rt)
			if err != nil {
				t.Fatalf("Find(%s): %v", rt, err)
			}
			if !filepath.IsAbs(path) {
				t.Errorf("Find(%s) path %q is not absolute", rt, path)
			}
			if reported, ok := versionOf(t, path, prefix); !ok || reported != ver {
				t.Errorf("Find(%s) = %s version %q; the binary reports %q", rt, path, ver, reported)
			}
			a := answer{path: path, ver: ver, exact: exact}
			a.major, a.minor = majorMinor(t, ver)
			if exact != (got(a) == want(rt)) {
				t.Errorf("Find(%s) = %s exact=%v; inconsistent with the version", rt, ver, exact)
			}
			p2, v2, e2, err := h.Find(rt)
			if err != nil || p2 != path || v2 != ver || e2 != exact {
				t.Errorf("second Find(%s) = %s %s %v %v; first %s %s %v", rt, p2, v2, e2, err, path, ver, exact)
			}
			answers[rt] = a
		}
		// Every answer is a version this host has; none may be nearer to another runtime
		// than that runtime's own answer.
		for rt, a := range answers {
			for _, other := range answers {
				if absDiff(got(other), want(rt)) < absDiff(got(a), want(rt)) {
					t.Errorf("Find(%s) = %s, but %s (%s) is nearer", rt, a.ver, other.ver, other.path)
				}
			}
		}
		return answers
	}

	t.Run("python", func(t *testing.T) {
		pyRuntimes := allCodeRuntimes[:5]
		answers := check(t, pyRuntimes, "Python ",
			func(rt string) int {
				_, m := majorMinor(t, strings.ReplaceAll(strings.TrimPrefix(rt, "PYTHON_"), "_", "."))
				return m
			},
			func(a answer) int { return a.minor })
		for rt, a := range answers {
			if a.major != 3 {
				t.Errorf("Find(%s) = Python %s", rt, a.ver)
			}
			// A working python3.X on PATH that reports 3.X means the runtime is available.
			minor := strings.TrimPrefix(rt, "PYTHON_3_")
			if bin, err := exec.LookPath("python3." + minor); err == nil {
				if v, ok := versionOf(t, bin, "Python "); ok && strings.HasPrefix(v, "3."+minor+".") && !a.exact {
					t.Errorf("Find(%s) is not exact, but %s reports %s", rt, bin, v)
				}
			}
		}
	})

	t.Run("node", func(t *testing.T) {
		if _, err := exec.LookPath("node"); err != nil {
			t.Skip("no node on this host")
		}
		check(t, allCodeRuntimes[5:], "v",
			func(rt string) int { n, _ := strconv.Atoi(strings.TrimPrefix(rt, "NODE_")); return n },
			func(a answer) int { return a.major })
	})
}

// prepareAndRun prepares a real code zip, resolves its launch with this host's interpreters,
// copies the tree as the process driver does, relocates the launch there and runs it.
func prepareAndRun(t *testing.T, runtime string, entryPoint []string, entries ...zipEntry) (image.Launch, string) {
	t.Helper()
	objs := newObjects(t)
	putObject(t, objs, "agent.zip", makeZip(t, entries...))
	p, err := image.New(t.TempDir(), objs, nil, image.Options{}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg := codeConfig(runtime, entryPoint...)
	prepared, err := p.Prepare(t.Context(), *cfg.AgentRuntimeArtifact)
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	l, err := image.ResolveLaunch(prepared, cfg, image.HostInterpreters())
	if err != nil {
		t.Fatalf("ResolveLaunch: %v", err)
	}
	for _, w := range l.Warnings {
		t.Logf("warning: %s", w)
	}
	copyDir := filepath.Join(t.TempDir(), "session-code")
	if err := os.CopyFS(copyDir, os.DirFS(l.CodeDir)); err != nil {
		t.Fatal(err)
	}
	run := l.Relocate(copyDir)
	cmd := exec.CommandContext(t.Context(), run.Command[0], run.Command[1:]...)
	cmd.Dir, cmd.Env = run.WorkDir, run.Env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("run %v: %v\n%s", run.Command, err, out)
	}
	return l, strings.TrimSpace(string(out))
}

// TestResolveLaunch_RunsOnThisHost runs a Python zip the AgentCore way: vendored packages at
// the root of the zip, the entry file in a subdirectory (so only PYTHONPATH makes the
// vendored package importable), and a vendored opentelemetry-instrument-style wrapper whose
// shebang names a machine that does not exist (so it only works run by the interpreter).
func TestResolveLaunch_RunsOnThisHost(t *testing.T) {
	if !hostHasPython() {
		t.Skip("no python3 on this host")
	}
	wrapperScript := "#!/build/.venv/bin/python3\nimport os, sys\nos.environ['WRAPPED'] = 'yes'\nos.execv(sys.argv[1], sys.argv[1:])\n"
	mainPy := "import os, sys\nimport greeting\n" +
		"print(greeting.NAME, '%d.%d' % sys.version_info[:2], os.getcwd(), os.environ.get('WRAPPED', 'no'), sys.executable)\n"
	files := []zipEntry{
		{name: "greeting/__init__.py", body: "NAME = 'berth'\n"},
		{name: "src/main.py", body: mainPy},
		{name: "bin/opentelemetry-instrument", body: wrapperScript, mode: 0o755},
	}
	for _, tt := range []struct {
		name        string
		entryPoint  []string
		wantWrapped string
	}{
		{"entry file only", []string{"src/main.py"}, "no"},
		{"vendored wrapper", []string{"opentelemetry-instrument", "src/main.py"}, "yes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l, out := prepareAndRun(t, "PYTHON_3_12", tt.entryPoint, files...)
			_, ver, _, err := image.HostInterpreters().Find("PYTHON_3_12")
			if err != nil {
				t.Fatal(err)
			}
			major, minor := majorMinor(t, ver)
			fields := strings.Fields(out)
			if len(fields) != 5 {
				t.Fatalf("agent printed %q; want 5 fields", out)
			}
			want := []string{"berth", fmt.Sprintf("%d.%d", major, minor), "session-code", tt.wantWrapped, l.Command[0]}
			got := []string{fields[0], fields[1], filepath.Base(fields[2]), fields[3], fields[4]}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("agent output (name, version, working directory, wrapped, executable) (-want +got):\n%s", diff)
			}
			// The prepared tree stays pristine: nothing was written into it.
			err = filepath.WalkDir(l.CodeDir, func(p string, d fs.DirEntry, err error) error {
				if err == nil && d.Name() == "__pycache__" {
					t.Errorf("the prepared tree was written to: %s", p)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestResolveLaunch_RunsNodeOnThisHost runs a Node.js zip with a vendored module.
func TestResolveLaunch_RunsNodeOnThisHost(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("no node on this host")
	}
	_, out := prepareAndRun(t, "NODE_22", []string{"main.js"},
		zipEntry{name: "node_modules/greeting/index.js", body: "module.exports = 'berth';\n"},
		zipEntry{name: "main.js", body: "console.log(require('greeting'), process.versions.node.split('.')[0], process.cwd());\n"},
	)
	_, ver, _, err := image.HostInterpreters().Find("NODE_22")
	if err != nil {
		t.Fatal(err)
	}
	major, _ := majorMinor(t, ver)
	fields := strings.Fields(out)
	if len(fields) != 3 || fields[0] != "berth" || fields[1] != strconv.Itoa(major) || filepath.Base(fields[2]) != "session-code" {
		t.Errorf("agent printed %q; want \"berth %d <…>/session-code\"", out, major)
	}
}

// TestResolveLaunch_HostInterpretersSatisfyToolFinder documents that the host lookup can
// find entryPoint wrappers installed on the host.
func TestResolveLaunch_HostInterpretersSatisfyToolFinder(t *testing.T) {
	if _, ok := image.HostInterpreters().(image.ToolFinder); !ok {
		t.Error("HostInterpreters does not implement ToolFinder")
	}
	// A program every Linux host has is found where the search path puts it.
	if got, err := image.HostInterpreters().(image.ToolFinder).FindTool("sh"); err != nil || !filepath.IsAbs(got) {
		t.Errorf("FindTool(sh) = %q, %v", got, err)
	}
}
