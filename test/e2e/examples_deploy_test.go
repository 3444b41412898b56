package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"berth.dev/berth/internal/cli"
)

// Where the examples and the Python SDK they vendor live, from this package's directory.
var (
	examplesDir  = filepath.Join("..", "..", "examples")
	pythonSDKDir = filepath.Join("..", "..", "sdk", "python", "berth_agent")
)

// berthCLI runs the berth command line in-process against the server, as a user would with
// BERTH_ENDPOINT and BERTH_CREDENTIALS set, and returns its stdout. A non-zero exit fails
// the test with the command's stderr.
func (ts *testServer) berthCLI(t *testing.T, command string, args ...string) string {
	t.Helper()
	full := append([]string{command, "--endpoint", ts.URL, "--credentials", filepath.Join(ts.DataDir, "credentials")}, args...)
	var stdout, stderr bytes.Buffer
	if code := cli.Main(context.Background(), full, &stdout, &stderr); code != 0 {
		t.Fatalf("berth %q exited %d:\n%s%s", full, code, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// cliDeploy runs `berth deploy --name NAME ARGS… -o json` and returns the READY runtime.
func (ts *testServer) cliDeploy(t *testing.T, name string, args ...string) deployed {
	t.Helper()
	out := ts.berthCLI(t, "deploy", append([]string{"--name", name, "-o", "json"}, args...)...)
	var res struct {
		ID      string `json:"agentRuntimeId"`
		ARN     string `json:"agentRuntimeArn"`
		Status  string `json:"status"`
		Created bool   `json:"created"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("berth deploy -o json printed %q: %v", out, err)
	}
	if res.Status != "READY" || !res.Created || res.ARN == "" {
		t.Fatalf("berth deploy %s: %s", name, out)
	}
	return deployed{ID: res.ID, ARN: res.ARN}
}

// stagePythonExample copies examples/<name> into a new directory with the Python SDK
// (sdk/python/berth_agent) vendored beside it — what the examples' READMEs tell users to
// do before `berth deploy` — and returns the directory.
func stagePythonExample(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	copyTree(t, filepath.Join(examplesDir, name), dir, "berth_agent") // a copy a user vendored there is not the one under test
	copyTree(t, pythonSDKDir, filepath.Join(dir, "berth_agent"))
	return dir
}

// copyTree copies the regular files under src to dst, leaving out __pycache__ and the
// directories named in skip.
func copyTree(t *testing.T, src, dst string, skip ...string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		if d.IsDir() {
			if rel != "." && (d.Name() == "__pycache__" || slices.Contains(skip, d.Name())) {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		return copyFile(path, filepath.Join(dst, rel))
	})
	if err != nil {
		t.Fatalf("copy %s to %s: %v", src, dst, err)
	}
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer func() { _ = in.Close() }()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}
