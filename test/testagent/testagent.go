// Package testagent builds Berth's test agents (test/agent, and protocol agents such as an
// MCP or A2A server) for tests: as static binaries and as OCI images, once per test process.
package testagent

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// AgentPackage is the import path of the general test agent.
const AgentPackage = "berth.dev/berth/test/agent"

var (
	buildMu sync.Mutex
	built   = map[string]string{} // package → binary
	dir     string
)

// Binary returns the path of a static build of test/agent.
func Binary(t testing.TB) string { return Build(t, AgentPackage) }

// Build returns the path of a static build (CGO disabled) of the main package pkg, built once
// per test process into a directory that outlives individual tests.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if bin, ok := built[pkg]; ok {
		return bin
	}
	if dir == "" {
		d, err := os.MkdirTemp("", "berth-testagent") //nolint:usetesting // shared by every test in the process
		if err != nil {
			t.Fatal(err)
		}
		dir = d
	}
	bin := filepath.Join(dir, strings.ReplaceAll(strings.TrimPrefix(pkg, "berth.dev/berth/"), "/", "-"))
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", pkg, err, out)
	}
	built[pkg] = bin
	return bin
}

// Image returns an OCI image of test/agent: its only layer holds the binary at /agent, with
// Entrypoint ["/agent"], the given extra environment, and WorkingDir /srv.
func Image(t testing.TB, env ...string) v1.Image { return ImageOf(t, Binary(t), env...) }

// ImageOf returns an OCI image whose only layer holds bin at /agent, with Entrypoint
// ["/agent"], PATH and IMAGE_ENV=from-image plus env, and WorkingDir /srv.
func ImageOf(t testing.TB, bin string, env ...string) v1.Image {
	t.Helper()
	raw, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, d := range []string{"srv/", "tmp/"} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: 0o1777}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "agent", Mode: 0o755, Size: int64(len(raw))}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	layerBytes := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(layerBytes)), nil })
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Config.Entrypoint = []string{"/agent"}
	cf.Config.Env = append([]string{"PATH=/usr/local/bin:/usr/bin:/bin", "IMAGE_ENV=from-image"}, env...)
	cf.Config.WorkingDir = "/srv"
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}
