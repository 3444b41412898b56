package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// vendored is what installing a project's dependencies produced: trees to pack into the
// code zip beside the source, and which of the source's own directories they replace.
type vendored struct {
	trees   []zipTree
	replace map[string]bool // top-level source directories left out (node_modules)
	tool    string          // "pip", "npm" or "" when nothing was installed
	tmp     string
}

// cleanup removes the temporary install directory.
func (v vendored) cleanup() {
	if v.tmp != "" {
		_ = os.RemoveAll(v.tmp)
	}
}

// vendorDeps installs the dependencies of the project in dir, as AgentCore's managed
// runtimes expect them (the service installs nothing): for a Python runtime with a
// requirements.txt, pip install --target puts them at the root of the zip; for a Node.js
// runtime with a package.json, npm install --omit=dev puts them in node_modules/. The project
// directory itself is not changed. Nothing to install is not an error.
func vendorDeps(ctx context.Context, dir, runtime string, prog *progress) (vendored, error) {
	switch {
	case strings.HasPrefix(runtime, "PYTHON_"):
		return pipInstall(ctx, dir, prog)
	case strings.HasPrefix(runtime, "NODE_"):
		return npmInstall(ctx, dir, prog)
	}
	return vendored{}, nil
}

func pipInstall(ctx context.Context, dir string, prog *progress) (vendored, error) {
	req := filepath.Join(dir, "requirements.txt")
	raw, err := os.ReadFile(req)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && !hasRequirements(raw)) {
		return vendored{}, nil
	}
	if err != nil {
		return vendored{}, fmt.Errorf("read requirements: %w", err)
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		return vendored{}, hintError{errors.New("requirements.txt needs pip to install, and there is no python3 on PATH"),
			"install python3 with pip, or pass --no-deps and vendor the packages into the directory yourself"}
	}
	tmp, err := os.MkdirTemp("", "berth-deps-")
	if err != nil {
		return vendored{}, fmt.Errorf("vendor dependencies: %w", err)
	}
	v := vendored{tmp: tmp, tool: "pip"}
	target := filepath.Join(tmp, "site")
	prog.step("Installing requirements.txt with pip")
	cmd := exec.CommandContext(ctx, python, "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--quiet",
		"--retries", "1", "--timeout", "15", "--target", target, "-r", "requirements.txt")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		v.cleanup()
		prog.clear()
		return vendored{}, hintError{fmt.Errorf("pip install -r requirements.txt failed: %s", toolError(out, "ERROR:", err)),
			"check that the package index is reachable and the requirements install; --no-deps skips installing (vendor them yourself)"}
	}
	v.trees = []zipTree{{dir: target}}
	return v, nil
}

// hasRequirements reports whether a requirements file names anything to install.
func hasRequirements(raw []byte) bool {
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			return true
		}
	}
	return false
}

func npmInstall(ctx context.Context, dir string, prog *progress) (vendored, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return vendored{}, nil
	}
	if err != nil {
		return vendored{}, fmt.Errorf("read package.json: %w", err)
	}
	var pkg map[string]any
	if err := json.Unmarshal(raw, &pkg); err != nil {
		return vendored{}, hintError{fmt.Errorf("package.json: %w", err), "fix the file, or pass --no-deps"}
	}
	deps, _ := pkg["dependencies"].(map[string]any)
	if len(deps) == 0 {
		return vendored{}, nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return vendored{}, hintError{errors.New("package.json has dependencies, and there is no npm on PATH"),
			"install npm, or pass --no-deps with node_modules/ already in the directory"}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return vendored{}, err
	}
	// npm runs in a scratch copy of package.json, without the devDependencies (npm resolves
	// them even with --omit=dev) and the scripts (they expect the project around them);
	// local "file:" dependencies are made absolute so they still resolve from there.
	delete(pkg, "devDependencies")
	delete(pkg, "scripts")
	for name, spec := range deps {
		if s, ok := spec.(string); ok {
			if p, ok := strings.CutPrefix(s, "file:"); ok && !filepath.IsAbs(p) {
				deps[name] = "file:" + filepath.Join(abs, p)
			}
		}
	}
	tmp, err := os.MkdirTemp("", "berth-deps-")
	if err != nil {
		return vendored{}, fmt.Errorf("vendor dependencies: %w", err)
	}
	v := vendored{tmp: tmp, tool: "npm"}
	out, err := json.MarshalIndent(pkg, "", "  ")
	if err == nil {
		err = os.WriteFile(filepath.Join(tmp, "package.json"), out, 0o600)
	}
	if err != nil {
		v.cleanup()
		return vendored{}, fmt.Errorf("vendor dependencies: %w", err)
	}
	prog.step("Installing package.json dependencies with npm")
	cmd := exec.CommandContext(ctx, npm, "install", "--omit=dev", "--install-links", "--no-audit", "--no-fund", "--no-package-lock", "--loglevel=error")
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		v.cleanup()
		prog.clear()
		return vendored{}, hintError{fmt.Errorf("npm install --omit=dev failed: %s", toolError(out, "npm error", err)),
			"check that the npm registry is reachable and package.json installs; --no-deps skips installing (node_modules/ as it is)"}
	}
	v.trees = []zipTree{{dir: filepath.Join(tmp, "node_modules"), prefix: "node_modules"}}
	v.replace = map[string]bool{"node_modules": true}
	return v, nil
}

// toolError is the line of a tool's output that says what went wrong: the first starting
// with prefix (npm's "npm error", pip's "ERROR:") that is not only an error code or a
// pointer to a log file, else the last line, else err's text.
func toolError(out []byte, prefix string, err error) string {
	for _, l := range strings.Split(string(out), "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, prefix) && !strings.Contains(l, "complete log of this run") && !strings.HasPrefix(l, prefix+" code ") {
			return l
		}
	}
	return lastLine(out, err)
}

// lastLine is the last non-empty line of a tool's output, else err's text: the line that
// usually says what went wrong.
func lastLine(out []byte, err error) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			return l
		}
	}
	return err.Error()
}
