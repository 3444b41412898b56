package image

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"berth.dev/berth/internal/errdefs"
)

// Interpreters finds the language interpreter a code-zip runtime runs with.
type Interpreters interface {
	// Find returns the interpreter for runtime, a codeConfiguration.runtime such as
	// "PYTHON_3_12" or "NODE_22": the absolute path of its executable, the version it
	// reports ("3.12.4", "22.11.0"), and whether that is the version runtime asks for (the
	// same Python minor version, the same Node.js major version). When no such interpreter
	// exists, Find returns the closest one with exact false. An unknown runtime is an error
	// wrapping errdefs.ErrInvalidArgument; a host without any interpreter of the language is
	// an *Error wrapping errdefs.ErrUnavailable. Find is called on every session start, so
	// it must be fast after the first call and safe for concurrent use.
	Find(runtime string) (path string, version string, exact bool, err error)
}

// ToolFinder is an optional ability of an Interpreters, found by type assertion: it finds a
// program, such as the entryPoint wrapper "opentelemetry-instrument", on the host. A missing
// program is an error wrapping errdefs.ErrNotFound. Without a ToolFinder, wrappers are looked
// for only in the code zip.
type ToolFinder interface {
	FindTool(name string) (path string, err error)
}

// Interface guards.
var (
	_ Interpreters = (*hostInterpreters)(nil)
	_ ToolFinder   = (*hostInterpreters)(nil)
)

// extraSearchDirs are searched after PATH, so a server started with a minimal PATH still
// finds the distribution's interpreters.
var extraSearchDirs = []string{"/usr/bin", "/usr/local/bin"}

// probeTimeout bounds one run of an interpreter to learn its version.
const probeTimeout = 10 * time.Second

// The probes print the real executable (a pyenv or asdf shim resolves to the interpreter it
// runs) and the version. Python runs isolated (-I: no PYTHON* variables, no user site) and
// without importing site (-S), so a broken environment cannot change the answer.
const (
	pythonProbe = `import sys; print(sys.executable); print("%d.%d.%d" % sys.version_info[:3])`
	nodeProbe   = `console.log(process.execPath); console.log(process.versions.node)`
)

var sharedHost = sync.OnceValue(func() *hostInterpreters {
	return newHostInterpreters(searchDirs(os.Getenv("PATH")))
})

// HostInterpreters returns the interpreters installed on this host. It searches the
// directories of PATH (as the server process saw it at the first call), then /usr/bin and
// /usr/local/bin, for python3 and python3.N, and for node and nodejs.
//
// Every call returns the same value, whose results are cached for the life of the process:
//   - each candidate binary is run at most once, to learn its real executable and version
//     (a pyenv shim for a version that is not selected fails this probe and is skipped),
//     and only when needed: python3.12 for PYTHON_3_12, then when that is missing python3
//     and the binaries named nearest first (see find);
//   - a successful Find is remembered per runtime, so later calls run nothing and read no
//     directory. An interpreter installed later is used after a restart;
//   - a failed Find is not remembered, so installing a first interpreter needs no restart.
//
// When a runtime's own version is missing, Find picks the nearest minor version (Python) or
// major version (Node.js); between two equally near it picks the newer, which is more likely
// to accept code written for a version it does not have. Find returns the executable the
// interpreter reports, not the shim it was found through.
func HostInterpreters() Interpreters { return sharedHost() }

var sharedBase = sync.OnceValue(func() *hostInterpreters {
	return newHostInterpreters(searchDirs(DefaultPath))
})

// BaseInterpreters is HostInterpreters restricted to DefaultPath, that is to the host's
// /usr: the interpreters a sandbox sees when it runs code zips on the base root filesystem
// (package sandbox/rootfs), which borrows the host's /usr and nothing else. The server's
// own PATH (a pyenv shim under /root, say) is not searched: it is not there inside.
func BaseInterpreters() Interpreters { return sharedBase() }

// hostInterpreters implements HostInterpreters over a fixed list of directories.
type hostInterpreters struct {
	dirs    []string
	timeout time.Duration

	mu     sync.Mutex
	found  map[string]interpreter // runtime name → successful Find
	probes map[string]*probe      // candidate path → its one probe
}

// interpreter is one candidate binary and what its probe reported.
type interpreter struct {
	path string // where it was found
	exe  string // the executable it reports running as
	v    version
}

type probe struct {
	once sync.Once
	in   interpreter
	err  error
}

func newHostInterpreters(dirs []string) *hostInterpreters {
	return &hostInterpreters{
		dirs: dirs, timeout: probeTimeout,
		found: map[string]interpreter{}, probes: map[string]*probe{},
	}
}

// searchDirs turns a PATH value into the directories to search: PATH's absolute entries in
// order, then extraSearchDirs, without directories that do not exist or that repeat another
// one (/bin is /usr/bin on merged-/usr systems). Relative entries are ignored: they would
// depend on the server's working directory.
func searchDirs(pathEnv string) []string {
	var dirs []string
	seen := map[string]bool{}
	for _, d := range append(filepath.SplitList(pathEnv), extraSearchDirs...) {
		if d == "" || !filepath.IsAbs(d) {
			continue
		}
		resolved, err := filepath.EvalSymlinks(d)
		if err != nil || seen[resolved] {
			continue
		}
		if fi, err := os.Stat(resolved); err != nil || !fi.IsDir() { //nolint:gosec // PATH names the directories to search
			continue
		}
		seen[resolved] = true
		dirs = append(dirs, filepath.Clean(d))
	}
	return dirs
}

// Find implements Interpreters.
func (h *hostInterpreters) Find(runtime string) (string, string, bool, error) {
	rt, err := parseRuntime(runtime)
	if err != nil {
		return "", "", false, err
	}
	h.mu.Lock()
	in, ok := h.found[runtime]
	h.mu.Unlock()
	if !ok {
		if in, err = h.find(rt); err != nil {
			return "", "", false, err
		}
		h.mu.Lock()
		h.found[runtime] = in
		h.mu.Unlock()
	}
	return in.exe, in.v.text, rt.distance(in.v) == 0, nil
}

// find looks for the binary named after the exact version first, probing only those. If
// none reports that version, it probes in rings of increasing distance: first the unversioned
// binaries (python3, node: they may be any version), then the binaries named one minor
// version away, two away, and so on, stopping once the best answer is at least as near as
// the ring just probed: a binary's name is trusted to say its version when deciding what to
// probe, never when deciding what to return.
func (h *hostInterpreters) find(rt codeRuntime) (interpreter, error) {
	paths := h.candidates(rt.lang)
	if name := rt.exactName(); name != "" {
		for _, p := range paths {
			if filepath.Base(p) != name {
				continue
			}
			if in, err := h.probe(p, rt.lang); err == nil && rt.distance(in.v) == 0 {
				return in, nil
			}
		}
	}
	rings := map[int][]string{}
	maxRing := 0
	for _, p := range paths {
		d := rt.nameDistance(filepath.Base(p))
		rings[d] = append(rings[d], p)
		maxRing = max(maxRing, d)
	}
	var probed []interpreter
	for d := 0; d <= maxRing; d++ {
		if len(rings[d]) == 0 {
			continue
		}
		probed = append(probed, h.probeAll(rings[d], rt.lang)...)
		if best, ok := closest(rt, probed); ok && rt.distance(best.v) <= d {
			return best, nil
		}
	}
	in, ok := closest(rt, probed)
	if !ok {
		return interpreter{}, h.notFound(rt.lang)
	}
	return in, nil
}

func (h *hostInterpreters) notFound(lang string) error {
	where := "searched " + strings.Join(h.dirs, ", ")
	if lang == langPython {
		return fail(errdefs.ErrUnavailable, nil, "no Python interpreter found on this host; install python3 (%s)", where)
	}
	return fail(errdefs.ErrUnavailable, nil, "no Node.js interpreter found on this host; install nodejs (%s)", where)
}

// closest picks the usable interpreter nearest to rt; on a tie the newer one, then the one
// found first. ok is false when none is usable.
func closest(rt codeRuntime, ins []interpreter) (best interpreter, ok bool) {
	bestDist := -1
	for _, in := range ins {
		d := rt.distance(in.v)
		if d < 0 {
			continue
		}
		if !ok || d < bestDist || (d == bestDist && newer(in.v, best.v)) {
			best, bestDist, ok = in, d, true
		}
	}
	return best, ok
}

func newer(a, b version) bool {
	if a.major != b.major {
		return a.major > b.major
	}
	return a.minor > b.minor
}

// candidates lists the executables that may be an interpreter of lang, in search order.
func (h *hostInterpreters) candidates(lang string) []string {
	var paths []string
	for _, d := range h.dirs {
		entries, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if !interpreterName(lang, e.Name()) {
				continue
			}
			if p := filepath.Join(d, e.Name()); isExecutable(p) {
				paths = append(paths, p)
			}
		}
	}
	return paths
}

// interpreterName reports whether a file name is one of lang's interpreter binaries:
// python3 or python3.N, node or nodejs.
func interpreterName(lang, name string) bool {
	if lang == langNode {
		return name == "node" || name == "nodejs"
	}
	if name == "python3" {
		return true
	}
	minor, ok := strings.CutPrefix(name, "python3.")
	return ok && minor != "" && leadingDigits(minor) == minor
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// probeAll probes the candidates concurrently and returns those that answered, in order.
func (h *hostInterpreters) probeAll(paths []string, lang string) []interpreter {
	results := make([]*interpreter, len(paths))
	var wg sync.WaitGroup
	for i, p := range paths {
		wg.Go(func() {
			if in, err := h.probe(p, lang); err == nil {
				results[i] = &in
			}
		})
	}
	wg.Wait()
	var ins []interpreter
	for _, in := range results {
		if in != nil {
			ins = append(ins, *in)
		}
	}
	return ins
}

// probe runs the binary at path once in the life of h and returns what it reported.
func (h *hostInterpreters) probe(path, lang string) (interpreter, error) {
	h.mu.Lock()
	pr := h.probes[path]
	if pr == nil {
		pr = &probe{}
		h.probes[path] = pr
	}
	h.mu.Unlock()
	pr.once.Do(func() { pr.in, pr.err = runProbe(path, lang, h.timeout) })
	return pr.in, pr.err
}

func runProbe(path, lang string, timeout time.Duration) (interpreter, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	args := []string{"-e", nodeProbe}
	if lang == langPython {
		args = []string{"-I", "-S", "-c", pythonProbe}
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.WaitDelay = time.Second
	out, err := cmd.Output()
	if err != nil {
		return interpreter{}, fmt.Errorf("probe interpreter %s: %w", path, err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 {
		return interpreter{}, fmt.Errorf("probe interpreter %s: unexpected output %q", path, out)
	}
	v, err := parseVersion(lines[1])
	if err != nil {
		return interpreter{}, fmt.Errorf("probe interpreter %s: %w", path, err)
	}
	exe := strings.TrimSpace(lines[0])
	if !filepath.IsAbs(exe) {
		exe = path
	}
	return interpreter{path: path, exe: exe, v: v}, nil
}

// FindTool implements ToolFinder: the first executable called name in the search
// directories. It is not cached: it only reads file metadata.
func (h *hostInterpreters) FindTool(name string) (string, error) {
	if name == "" || strings.ContainsRune(name, filepath.Separator) {
		return "", fmt.Errorf("find tool %q: not a program name: %w", name, errdefs.ErrInvalidArgument)
	}
	for _, d := range h.dirs {
		if p := filepath.Join(d, name); isExecutable(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("find tool %s: not in %s: %w", name, strings.Join(h.dirs, ", "), errdefs.ErrNotFound)
}
