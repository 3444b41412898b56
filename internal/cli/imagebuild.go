package cli

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// goAgentPath is where a built Go agent sits in its image, and the image's entrypoint.
const goAgentPath = "/agent"

// buildGoImage builds the Go main package pkg of the module in dir into a static Linux
// binary (CGO_ENABLED=0, GOOS=linux, GOARCH from the environment, else this machine's) and
// wraps it in a single-layer OCI image without Docker: /agent (the entrypoint) and an empty
// /tmp, nothing else — no shell, no libc, no CA certificates. That is the whole of what
// Berth builds into images; anything else is pushed as an existing image (--image-archive).
func buildGoImage(ctx context.Context, dir, pkg string, prog *progress) (v1.Image, error) {
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		return nil, hintError{fmt.Errorf("no go.mod in %s: berth builds images from Go modules only", dir),
			"deploy a Python or Node.js agent as a zip (deploymentType zip), or push an image you built with --image-archive"}
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		return nil, hintError{errors.New("building a Go agent image needs the go tool on PATH"), "install Go, or deploy an image you built with --image-archive"}
	}
	tmp, err := os.MkdirTemp("", "berth-build-")
	if err != nil {
		return nil, fmt.Errorf("build image: %w", err)
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	bin := filepath.Join(tmp, "agent")
	if pkg == "" {
		pkg = "."
	}
	prog.step("Building %s with go build", pkg)
	cmd := exec.CommandContext(ctx, goTool, "build", "-trimpath", "-ldflags=-s -w", "-o", bin, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := cmd.CombinedOutput(); err != nil {
		prog.clear()
		return nil, hintError{fmt.Errorf("go build %s failed: %s", pkg, lastLine(out, err)), "'go build " + pkg + "' in " + dir + " shows the whole error"}
	}
	arch := os.Getenv("GOARCH")
	if arch == "" {
		arch = runtime.GOARCH
	}
	return goImage(bin, arch)
}

// goImage is the single-layer image holding the binary at bin as /agent.
func goImage(bin, arch string) (v1.Image, error) {
	layerTar, err := agentLayer(bin)
	if err != nil {
		return nil, fmt.Errorf("build image layer: %w", err)
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("build image layer: %w", err)
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.AppendLayers(base, layer)
	if err != nil {
		return nil, fmt.Errorf("build image: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("build image: %w", err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", arch
	cf.Created = v1.Time{Time: time.Now().UTC()}
	cf.Config.Entrypoint = []string{goAgentPath}
	cf.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	cf.Config.WorkingDir = "/"
	cf.Config.ExposedPorts = map[string]struct{}{"8080/tcp": {}}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("build image: %w", err)
	}
	return img, nil
}

// agentLayer is a tar of /agent (the binary at bin, mode 0755) and /tmp (mode 1777).
func agentLayer(bin string) ([]byte, error) {
	f, err := os.Open(bin) //nolint:gosec // the binary go build just wrote
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	now := time.Now().UTC()
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "tmp/", Mode: 0o1777, ModTime: now}); err != nil {
		return nil, err
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "agent", Mode: 0o755, Size: st.Size(), ModTime: now}); err != nil {
		return nil, err
	}
	if _, err := io.Copy(tw, f); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
