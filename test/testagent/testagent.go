// Package testagent builds Berth's test agent (test/agent) for tests: as a static binary,
// as a code zip, and as an OCI image, once per test process.
package testagent

import (
	"archive/tar"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

var (
	once     sync.Once
	binPath  string
	errBuild error
)

// Binary returns the path of a static build of test/agent (CGO disabled), built once per
// test process into a directory that outlives individual tests.
func Binary(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		dir, err := os.MkdirTemp("", "berth-testagent") //nolint:usetesting // shared by every test in the process
		if err != nil {
			errBuild = err
			return
		}
		binPath = filepath.Join(dir, "agent")
		cmd := exec.Command("go", "build", "-trimpath", "-o", binPath, "berth.dev/berth/test/agent")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			errBuild = fmt.Errorf("build test agent: %w\n%s", err, out)
		}
	})
	if errBuild != nil {
		t.Fatal(errBuild)
	}
	return binPath
}

// Image returns an OCI image whose only layer holds the test agent at /agent, with
// Entrypoint ["/agent"], the given extra environment, and WorkingDir /srv.
func Image(t testing.TB, env ...string) v1.Image {
	t.Helper()
	bin, err := os.ReadFile(Binary(t))
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
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "agent", Mode: 0o755, Size: int64(len(bin))}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(bin); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	raw := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (rc ioReadCloser, err error) { return nopCloser{bytes.NewReader(raw)}, nil })
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
