package image

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/errdefs"
)

// resolveCode builds the launch of a code zip; ResolveLaunch documents the rules.
func resolveCode(p catalog.PreparedArtifact, cfg catalog.RuntimeConfig, host Interpreters) (Launch, error) {
	var cc *catalog.CodeConfiguration
	if a := cfg.AgentRuntimeArtifact; a != nil {
		cc = a.CodeConfiguration
	}
	if cc == nil {
		return Launch{}, fail(errdefs.ErrInvalidArgument, nil, "the prepared artifact is a code zip but the configuration has no codeConfiguration")
	}
	rt, err := parseRuntime(cc.Runtime)
	if err != nil {
		return Launch{}, err
	}
	if len(cc.EntryPoint) > 2 {
		return Launch{}, fail(errdefs.ErrInvalidArgument, nil, "codeConfiguration.entryPoint has %d tokens; it takes 1 or 2", len(cc.EntryPoint))
	}
	entry, err := entryPointFile(cc.EntryPoint)
	if err != nil {
		return Launch{}, err
	}
	if err := checkTree(p.Path, "code"); err != nil {
		return Launch{}, err
	}
	root, err := os.OpenRoot(p.Path)
	if err != nil {
		return Launch{}, fail(errdefs.ErrUnavailable, err, "the prepared code at %s cannot be opened", p.Path)
	}
	defer func() { _ = root.Close() }()
	if !isFile(root, entry) {
		return Launch{}, fail(errdefs.ErrInvalidArgument, nil, "entry point %s is not a file in the code zip (prepared at %s)", entry, p.Path)
	}
	if host == nil {
		return Launch{}, fmt.Errorf("resolve launch of %s: no interpreter finder given: %w", cc.Runtime, errdefs.ErrInvalidArgument)
	}
	interp, ver, exact, err := host.Find(cc.Runtime)
	if err != nil {
		return Launch{}, fmt.Errorf("find interpreter for %s: %w", cc.Runtime, err)
	}

	l := Launch{CodeDir: p.Path, WorkDir: CodeMount}
	if !exact {
		l.Warnings = append(l.Warnings, fmt.Sprintf("%s requested; running with %s (%s at %s, the closest available)",
			cc.Runtime, versionLabel(rt, ver), ver, interp))
	}
	prefix, warning := wrapper(rt, cc.EntryPoint, entry, interp, root, host)
	if warning != "" {
		l.Warnings = append(l.Warnings, warning)
	}
	l.Command = append(prefix, interp, entry)
	l.Env = []string{"PATH=" + codePath(interp)}
	if rt.lang == langPython {
		l.Env = append(l.Env, "PYTHONPATH="+CodeMount)
	} else {
		l.Env = append(l.Env, "NODE_PATH="+CodeMount+"/node_modules")
	}
	return l, nil
}

// wrapper returns the argv that goes before "<interpreter> <entry>" for a two-token
// entryPoint, and a warning when the wrapper is not run as asked.
func wrapper(rt codeRuntime, ep []string, entry, interp string, root *os.Root, host Interpreters) ([]string, string) {
	if len(ep) < 2 {
		return nil, ""
	}
	w := ep[0]
	if isInterpreterAlias(rt.lang, w) {
		return nil, ""
	}
	if rt.lang == langNode {
		return nil, fmt.Sprintf("entryPoint wrapper %q is not supported for Node.js runtimes; running %s without it", w, entry)
	}
	bare := !strings.Contains(w, "/")
	rel := path.Clean(w)
	if bare {
		rel = "bin/" + w
	}
	if filepath.IsLocal(rel) && isFile(root, rel) {
		return []string{interp, rel}, ""
	}
	if tf, ok := host.(ToolFinder); ok && bare {
		if hostPath, err := tf.FindTool(w); err == nil {
			return []string{hostPath}, fmt.Sprintf("entryPoint wrapper %s is not in the code zip (%s); running the one installed on this host, %s", w, rel, hostPath)
		}
	}
	return nil, fmt.Sprintf("entryPoint wrapper %s was not found in the code zip (%s) or on this host; running %s without it", w, rel, entry)
}

// isInterpreterAlias reports whether an entryPoint wrapper token just names the interpreter.
func isInterpreterAlias(lang, w string) bool {
	if lang == langPython && w == "python" {
		return true
	}
	return interpreterName(lang, w)
}

func isFile(root *os.Root, name string) bool {
	fi, err := root.Stat(name)
	return err == nil && fi.Mode().IsRegular()
}

// versionLabel names the interpreter version found ("python3.11", "node 20"), or the raw
// version when it cannot be parsed.
func versionLabel(rt codeRuntime, ver string) string {
	v, err := parseVersion(ver)
	if err != nil {
		return ver
	}
	return rt.label(v)
}

// codePath is a code zip's PATH: the interpreter's directory first, so "python3" or "node"
// run by the agent is the same interpreter, then the rest of DefaultPath.
func codePath(interp string) string {
	if !filepath.IsAbs(interp) {
		return DefaultPath
	}
	dir := filepath.Dir(interp)
	dirs := []string{dir}
	for _, d := range filepath.SplitList(DefaultPath) {
		if d != dir {
			dirs = append(dirs, d)
		}
	}
	return strings.Join(dirs, string(filepath.ListSeparator))
}
