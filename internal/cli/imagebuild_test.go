package cli

import (
	"archive/tar"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/types"
)

func TestGoImage_OneLayerWithTheAgent(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "agent")
	if err := os.WriteFile(bin, []byte("\x7fELF not really"), 0o700); err != nil {
		t.Fatal(err)
	}
	img, err := goImage(bin, "arm64")
	if err != nil {
		t.Fatal(err)
	}
	mt, err := img.MediaType()
	if err != nil || mt != types.OCIManifestSchema1 {
		t.Errorf("media type %s, %v", mt, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.OS != "linux" || cf.Architecture != "arm64" || len(cf.Config.Entrypoint) != 1 || cf.Config.Entrypoint[0] != "/agent" || cf.Config.WorkingDir != "/" {
		t.Errorf("config %+v %+v", cf.Config, cf.Platform())
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("%d layers, %v", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rc.Close() }()
	got := map[string]int64{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got[h.Name] = h.Mode
		if h.Name == "agent" {
			b, _ := io.ReadAll(tr)
			if string(b) != "\x7fELF not really" {
				t.Errorf("agent holds %q", b)
			}
		}
	}
	if len(got) != 2 || got["agent"] != 0o755 || got["tmp/"] != 0o1777 {
		t.Errorf("layer entries %v", got)
	}
}
