package harness

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// agentImage is an OCI image whose only layer holds bin at /agent (Entrypoint ["/agent"],
// WorkingDir /srv), as test/testagent builds it.
func agentImage(bin string, env []string) (v1.Image, error) {
	raw, err := os.ReadFile(bin) //nolint:gosec // the binary the harness built
	if err != nil {
		return nil, fmt.Errorf("agent image: %w", err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, d := range []string{"srv/", "tmp/"} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: 0o1777}); err != nil {
			return nil, fmt.Errorf("agent image: %w", err)
		}
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "agent", Mode: 0o755, Size: int64(len(raw))}); err != nil {
		return nil, fmt.Errorf("agent image: %w", err)
	}
	if _, err := tw.Write(raw); err != nil {
		return nil, fmt.Errorf("agent image: %w", err)
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("agent image: %w", err)
	}
	layerBytes := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(layerBytes)), nil })
	if err != nil {
		return nil, fmt.Errorf("agent image: %w", err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return nil, fmt.Errorf("agent image: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("agent image: %w", err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Config.Entrypoint = []string{"/agent"}
	cf.Config.Env = append([]string{"PATH=/usr/local/bin:/usr/bin:/bin"}, env...)
	cf.Config.WorkingDir = "/srv"
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("agent image: %w", err)
	}
	return img, nil
}

// PushGoAgentImage pushes an image of the Go test agent to the server's /v2/ registry as
// repoTag ("bench/agent:v1") and returns the containerUri to deploy it. Extra env
// ("K=V") goes into the image config, which also gives the image a distinct digest.
func (e *Env) PushGoAgentImage(ctx context.Context, repoTag string, env ...string) (string, error) {
	img, err := agentImage(e.Bins.Agent, env)
	if err != nil {
		return "", err
	}
	uri := e.Addr + "/" + repoTag
	ref, err := name.ParseReference(uri, name.Insecure)
	if err != nil {
		return "", fmt.Errorf("push %s: %w", uri, err)
	}
	auth := &authn.Basic{Username: e.Creds.AccessKeyID, Password: e.Creds.SecretAccessKey}
	if err := remote.Write(ref, img, remote.WithAuth(auth), remote.WithContext(ctx)); err != nil {
		return "", fmt.Errorf("push %s: %w", uri, err)
	}
	return uri, nil
}
