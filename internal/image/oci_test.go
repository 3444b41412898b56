package image_test

import (
	"archive/tar"
	"errors"
	"io/fs"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/image"
)

func imageArtifact(uri string) catalog.Artifact {
	return catalog.Artifact{ContainerConfiguration: &catalog.ContainerConfiguration{ContainerURI: uri}}
}

// testImage has two layers; the upper one deletes a file, replaces another and adds links.
func testImage(t *testing.T) v1.Image {
	t.Helper()
	base := makeLayer(t,
		tarEntry{name: "app/", typ: tar.TypeDir},
		tarEntry{name: "app/main.py", typ: tar.TypeReg, body: "print('v1')\n"},
		tarEntry{name: "app/old.txt", typ: tar.TypeReg, body: "to be deleted"},
		tarEntry{name: "usr/bin/", typ: tar.TypeDir},
		tarEntry{name: "usr/bin/agent", typ: tar.TypeReg, body: "#!/bin/sh\necho agent\n", mode: 0o755},
		tarEntry{name: "etc/", typ: tar.TypeDir},
		tarEntry{name: "etc/readonly/", typ: tar.TypeDir, mode: 0o555},
		tarEntry{name: "etc/readonly/conf", typ: tar.TypeReg, body: "k=v\n", mode: 0o444},
	)
	upper := makeLayer(t,
		tarEntry{name: "app/", typ: tar.TypeDir},
		tarEntry{name: "app/.wh.old.txt", typ: tar.TypeReg},
		tarEntry{name: "app/main.py", typ: tar.TypeReg, body: "print('v2')\n"},
		tarEntry{name: "bin", typ: tar.TypeSymlink, linkname: "usr/bin"},
		tarEntry{name: "usr/bin/agent-link", typ: tar.TypeLink, linkname: "usr/bin/agent"},
		tarEntry{name: "etc/absolute", typ: tar.TypeSymlink, linkname: "/etc/readonly/conf"},
	)
	img, err := mutate.AppendLayers(empty.Image, base, upper)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", runtime.GOARCH
	cfg.Config = v1.Config{
		Entrypoint:   []string{"/usr/bin/agent"},
		Cmd:          []string{"--serve"},
		Env:          []string{"PATH=/usr/bin", "MODE=test"},
		WorkingDir:   "/app",
		User:         "1000:1000",
		ExposedPorts: map[string]struct{}{"8080/tcp": {}, "9000/tcp": {}},
	}
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// checkRootfs verifies the flattened tree of testImage.
func checkRootfs(t *testing.T, root string) {
	t.Helper()
	files := map[string]string{
		"app/main.py":        "print('v2')\n",
		"usr/bin/agent":      "#!/bin/sh\necho agent\n",
		"usr/bin/agent-link": "#!/bin/sh\necho agent\n",
		"bin/agent":          "#!/bin/sh\necho agent\n", // through the relative symlink
		"etc/readonly/conf":  "k=v\n",
	}
	for name, want := range files {
		b, err := os.ReadFile(filepath.Join(root, name))
		if err != nil || string(b) != want {
			t.Errorf("%s = %q (%v), want %q", name, b, err, want)
		}
	}
	if _, err := os.Lstat(filepath.Join(root, "app/old.txt")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("whited-out app/old.txt: %v, want it gone", err)
	}
	if _, err := os.Lstat(filepath.Join(root, "app/.wh.old.txt")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("whiteout marker extracted: %v", err)
	}
	if target, err := os.Readlink(filepath.Join(root, "etc/absolute")); err != nil || target != "/etc/readonly/conf" {
		t.Errorf("etc/absolute -> %q (%v)", target, err)
	}
	modes := map[string]fs.FileMode{"usr/bin/agent": 0o755, "etc/readonly": 0o555, "etc/readonly/conf": 0o444}
	for name, want := range modes {
		fi, err := os.Stat(filepath.Join(root, name))
		if err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s mode %v (%v), want %v", name, fi.Mode().Perm(), err, want)
		}
	}
	a, errA := os.Stat(filepath.Join(root, "usr/bin/agent"))
	b, errB := os.Stat(filepath.Join(root, "usr/bin/agent-link"))
	if errA != nil || errB != nil || !os.SameFile(a, b) {
		t.Errorf("usr/bin/agent-link is not a hard link of usr/bin/agent (%v, %v)", errA, errB)
	}
}

func wantConfig(digest string) image.Config {
	return image.Config{
		Digest: digest, OS: "linux", Architecture: runtime.GOARCH,
		Entrypoint: []string{"/usr/bin/agent"}, Cmd: []string{"--serve"},
		Env: []string{"PATH=/usr/bin", "MODE=test"}, WorkingDir: "/app", User: "1000:1000",
		ExposedPorts: []string{"8080/tcp", "9000/tcp"},
	}
}

func TestPreparer_Prepare_ImageFromBuiltinRegistry(t *testing.T) {
	b := newBuiltin(t)
	img := testImage(t)
	uri := b.host + "/team/agent:v1"
	if err := remote.Write(parseRef(t, uri), img, builtinAuth(), remote.WithContext(t.Context())); err != nil {
		t.Fatalf("push: %v", err)
	}
	digest := mustDigest(t, img)
	// Close the registry's HTTP server: the preparer must read the image locally.
	b.srv.Close()

	dir := treeDir(t)
	p, err := image.New(dir, nil, b.reg, image.Options{
		LocalHosts: []string{"localhost:8787", b.host},
		Transport:  noNetwork{t},
	}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Prepare(t.Context(), imageArtifact(uri))
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	want := catalog.PreparedArtifact{
		Kind: catalog.ArtifactImage, Digest: digest.String(),
		Ref:  b.host + "/team/agent@" + digest.String(),
		Path: filepath.Join(dir, "rootfs", digest.Hex), Size: imageSize(t, img),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("prepared (-want +got):\n%s", diff)
	}
	checkRootfs(t, got.Path)
	cfg, err := image.ReadConfig(got.Path)
	if err != nil {
		t.Fatalf("ReadConfig: %v", err)
	}
	if diff := cmp.Diff(wantConfig(digest.String()), cfg); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}

	// By digest, the same tree is reused.
	again, err := p.Prepare(t.Context(), imageArtifact(b.host+"/team/agent@"+digest.String()))
	if err != nil || again.Path != got.Path {
		t.Errorf("by digest: %+v, %v", again, err)
	}

	_, err = p.Prepare(t.Context(), imageArtifact(b.host+"/team/agent:nope"))
	if !errors.Is(err, errdefs.ErrNotFound) || !strings.Contains(image.FailureReason(err), "not found in Berth's registry") {
		t.Errorf("unknown local tag: %v", err)
	}
}

func TestPreparer_Prepare_IndexFromBuiltinRegistry(t *testing.T) {
	b := newBuiltin(t)
	native := testImage(t)
	other, err := mutate.AppendLayers(empty.Image, makeLayer(t, tarEntry{name: "other", typ: tar.TypeReg, body: "x"}))
	if err != nil {
		t.Fatal(err)
	}
	otherArch := "s390x"
	if runtime.GOARCH == otherArch {
		otherArch = "arm64"
	}
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: other, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: otherArch}}},
		mutate.IndexAddendum{Add: native, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: runtime.GOARCH}}},
	)
	uri := b.host + "/team/multi:latest"
	if err := remote.WriteIndex(parseRef(t, uri), idx, builtinAuth(), remote.WithContext(t.Context())); err != nil {
		t.Fatalf("push index: %v", err)
	}
	b.srv.Close()

	p, err := image.New(treeDir(t), nil, b.reg, image.Options{LocalHosts: []string{b.host}, Transport: noNetwork{t}}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Prepare(t.Context(), imageArtifact(uri))
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	// The platform image's digest is pinned, not the index's.
	if want := mustDigest(t, native).String(); got.Digest != want || got.Ref != b.host+"/team/multi@"+want {
		t.Errorf("prepared %+v, want the %s image %s", got, runtime.GOARCH, want)
	}
	checkRootfs(t, got.Path)

	p2, err := image.New(treeDir(t), nil, b.reg, image.Options{
		LocalHosts: []string{b.host}, Transport: noNetwork{t}, Platform: &v1.Platform{OS: "linux", Architecture: "mips"},
	}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	_, err = p2.Prepare(t.Context(), imageArtifact(uri))
	if !errors.Is(err, errdefs.ErrNotFound) || !strings.Contains(image.FailureReason(err), "has no image for linux/mips") {
		t.Errorf("missing platform: %v", err)
	}
}

func TestPreparer_Prepare_ImageFromRemoteRegistry(t *testing.T) {
	srv := httptest.NewServer(ggcrregistry.New())
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	img := testImage(t)
	uri := host + "/library/agent:v1"
	if err := remote.Write(parseRef(t, uri), img, remote.WithContext(t.Context())); err != nil {
		t.Fatalf("push: %v", err)
	}
	digest := mustDigest(t, img)
	p, err := image.New(treeDir(t), nil, nil, image.Options{InsecureRegistries: []string{host}}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Prepare(t.Context(), imageArtifact(uri))
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	if got.Digest != digest.String() || got.Ref != host+"/library/agent@"+digest.String() || got.Kind != catalog.ArtifactImage {
		t.Errorf("prepared %+v, want digest %s", got, digest)
	}
	checkRootfs(t, got.Path)
	cfg, err := image.ReadConfig(got.Path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantConfig(digest.String()), cfg); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
}

func TestPreparer_Prepare_ImageFailures(t *testing.T) {
	srv := httptest.NewServer(ggcrregistry.New())
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")

	// A loopback port with nothing listening.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name       string
		uri        string
		wantKind   error
		wantReason string
	}{
		{"unknown image", host + "/nobody/nothing:latest", errdefs.ErrNotFound, "image " + host + "/nobody/nothing:latest not found"},
		{"unreachable registry", closed + "/team/agent:v1", errdefs.ErrUnavailable, "registry " + closed + " is unreachable"},
		{"invalid reference", "Not A Valid::Reference", errdefs.ErrInvalidArgument, `container URI "Not A Valid::Reference" is not a valid image reference`},
	}
	p, err := image.New(treeDir(t), nil, nil, image.Options{}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.Prepare(t.Context(), imageArtifact(tt.uri))
			if !errors.Is(err, tt.wantKind) {
				t.Fatalf("err = %v, want kind %v", err, tt.wantKind)
			}
			if reason := image.FailureReason(err); !strings.HasPrefix(reason, tt.wantReason) {
				t.Errorf("FailureReason = %q, want prefix %q", reason, tt.wantReason)
			}
		})
	}
}

func mustDigest(t *testing.T, d interface{ Digest() (v1.Hash, error) }) v1.Hash {
	t.Helper()
	h, err := d.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func imageSize(t *testing.T, img v1.Image) int64 {
	t.Helper()
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	n := m.Config.Size
	for _, l := range m.Layers {
		n += l.Size
	}
	return n
}
