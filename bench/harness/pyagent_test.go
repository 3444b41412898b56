package harness

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPythonAgentFiles_Heavy(t *testing.T) {
	light, heavy := PythonAgentFiles(false), PythonAgentFiles(true)
	if len(light) != 1 || strings.Contains(light["main.py"], "import heavydeps") {
		t.Errorf("light agent = %v files, imports heavydeps: %v", len(light), strings.Contains(light["main.py"], "import heavydeps"))
	}
	if !strings.Contains(heavy["main.py"], "\nimport heavydeps") || !strings.Contains(heavy["heavydeps.py"], "time.sleep(1.5)") {
		t.Error("heavy agent does not import a module that sleeps 1.5 s")
	}
}

func TestZip_DeterministicAndReadable(t *testing.T) {
	files := map[string]string{"main.py": "print(1)\n", "b/c.py": "x = 2\n"}
	a, err := Zip(files)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Zip(files)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("two zips of the same files differ (digests would too)")
	}
	zr, err := zip.NewReader(bytes.NewReader(a), int64(len(a)))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(rc)
		_ = rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		got[f.Name] = string(raw)
	}
	if len(got) != 2 || got["main.py"] != files["main.py"] || got["b/c.py"] != files["b/c.py"] {
		t.Errorf("zip holds %v", got)
	}
}

// TestWritePythonAgent_Compiles checks the agent's source is valid Python where python3 is
// installed.
func TestWritePythonAgent_Compiles(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	dir := t.TempDir()
	main, err := WritePythonAgent(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "heavydeps.py")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := testContext(t, 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, py, "-m", "py_compile", main).CombinedOutput(); err != nil {
		t.Errorf("py_compile: %v\n%s", err, out)
	}
}
