package harness

import (
	"archive/zip"
	"bytes"
	_ "embed"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

var (
	//go:embed agents/pyagent.py
	pyAgentSource string
	//go:embed agents/heavydeps.py
	heavyDepsSource string
)

// HeavyImportSeconds is how long the heavy Python agent's imports take.
const HeavyImportSeconds = 1.5

// PythonAgentFiles returns the files of the benchmark Python agent: main.py, plus
// heavydeps.py (imported first, sleeping HeavyImportSeconds) when heavy.
func PythonAgentFiles(heavy bool) map[string]string {
	if !heavy {
		return map[string]string{"main.py": pyAgentSource}
	}
	return map[string]string{
		"main.py":      strings.Replace(pyAgentSource, "# HEAVY-IMPORTS", "import heavydeps  # noqa: F401", 1),
		"heavydeps.py": heavyDepsSource,
	}
}

// PythonAgentZip returns a code zip of the Python agent (entry point main.py).
func PythonAgentZip(heavy bool) ([]byte, error) { return Zip(PythonAgentFiles(heavy)) }

// Zip returns a zip archive of files (name → content).
func Zip(files map[string]string) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		src := files[name]
		w, err := zw.Create(name)
		if err != nil {
			return nil, fmt.Errorf("zip %s: %w", name, err)
		}
		if _, err := w.Write([]byte(src)); err != nil {
			return nil, fmt.Errorf("zip %s: %w", name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("zip: %w", err)
	}
	return buf.Bytes(), nil
}

// WritePythonAgent writes the Python agent's files into dir and returns the path of main.py,
// for running it outside Berth.
func WritePythonAgent(dir string, heavy bool) (string, error) {
	for name, src := range PythonAgentFiles(heavy) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil { //nolint:gosec // world-readable code for sandboxes running as nobody
			return "", fmt.Errorf("write python agent: %w", err)
		}
	}
	return filepath.Join(dir, "main.py"), nil
}
