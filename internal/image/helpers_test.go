package image_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"berth.dev/berth/internal/artifact/objectstore"
	"berth.dev/berth/internal/artifact/registry"
	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/image"
	"berth.dev/berth/internal/store"
	"berth.dev/berth/internal/store/sqlite"
)

// The built-in object store and registry are what the server hands the preparer.
var (
	_ image.ObjectOpener  = (*objectstore.Store)(nil)
	_ image.LocalRegistry = (*registry.Registry)(nil)
)

func testLogger(t *testing.T) *slog.Logger {
	t.Helper()
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "berth.db"), testLogger(t))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// objects is the built-in object store with one bucket, "code".
func newObjects(t *testing.T) *objectstore.Store {
	t.Helper()
	objs, err := objectstore.New(openStore(t), t.TempDir(), testLogger(t), objectstore.Options{})
	if err != nil {
		t.Fatalf("objectstore.New: %v", err)
	}
	if err := objs.CreateBucket(t.Context(), "code"); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	return objs
}

func putObject(t *testing.T, objs *objectstore.Store, key string, data []byte) {
	t.Helper()
	if _, err := objs.PutObject(t.Context(), "code", key, bytes.NewReader(data), "application/zip"); err != nil {
		t.Fatalf("put object %s: %v", key, err)
	}
}

// zipEntry describes one entry of a test zip.
type zipEntry struct {
	name string
	body string
	mode fs.FileMode // 0 means a regular 0644 file; fs.ModeDir, fs.ModeSymlink (body = target)
}

func makeZip(t *testing.T, entries ...zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: time.Unix(1700000000, 0)}
		mode := e.mode
		if mode == 0 {
			mode = 0o644
		}
		if mode&fs.ModeDir != 0 {
			mode |= 0o755
		}
		if mode&fs.ModeSymlink != 0 {
			mode |= 0o777
		}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatalf("zip header %s: %v", e.name, err)
		}
		if _, err := io.WriteString(w, e.body); err != nil {
			t.Fatalf("zip write %s: %v", e.name, err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatalf("zip close: %v", err)
	}
	return buf.Bytes()
}

// tarEntry describes one entry of a test layer.
type tarEntry struct {
	name     string
	body     string
	typ      byte
	mode     int64
	linkname string
}

func makeLayer(t *testing.T, entries ...tarEntry) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		mode := e.mode
		if mode == 0 {
			mode = 0o644
			if e.typ == tar.TypeDir {
				mode = 0o755
			}
		}
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: mode, Linkname: e.linkname, ModTime: time.Unix(1700000000, 0)}
		if e.typ == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatalf("tar header %s: %v", e.name, err)
		}
		if e.typ == tar.TypeReg {
			if _, err := io.WriteString(tw, e.body); err != nil {
				t.Fatalf("tar write %s: %v", e.name, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatalf("tar close: %v", err)
	}
	data := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		t.Fatalf("layer: %v", err)
	}
	return l
}

const (
	testKeyID  = "AKIATESTIMAGEPREP001"
	testSecret = "image-prep-secret"
)

type keyAuth struct{}

func (keyAuth) CheckBasic(_ context.Context, id, secret string) error {
	if id == testKeyID && secret == testSecret {
		return nil
	}
	return errdefs.ErrUnauthenticated
}

// builtin is Berth's own registry served on loopback.
type builtin struct {
	reg  *registry.Registry
	srv  *httptest.Server
	host string
}

func newBuiltin(t *testing.T) *builtin {
	t.Helper()
	reg, err := registry.New(openStore(t), t.TempDir(), testLogger(t), keyAuth{})
	if err != nil {
		t.Fatalf("registry.New: %v", err)
	}
	srv := httptest.NewServer(reg.Handler())
	t.Cleanup(srv.Close)
	return &builtin{reg: reg, srv: srv, host: strings.TrimPrefix(srv.URL, "http://")}
}

func builtinAuth() remote.Option {
	return remote.WithAuth(&authn.Basic{Username: testKeyID, Password: testSecret})
}

func parseRef(t *testing.T, s string) name.Reference {
	t.Helper()
	ref, err := name.ParseReference(s)
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return ref
}

// treeDir is a temporary directory for prepared trees. Images may hold read-only
// directories, which keep a non-root test from removing the tree, so they are made
// writable before the directory is removed.
func treeDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Cleanup(func() { // runs before TempDir's own cleanup
		_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				_ = os.Chmod(p, 0o755)
			}
			return nil
		})
	})
	return dir
}

// noNetwork fails the test if the preparer sends any request over its remote transport.
type noNetwork struct{ t *testing.T }

func (n noNetwork) RoundTrip(req *http.Request) (*http.Response, error) {
	n.t.Errorf("unexpected network request: %s %s", req.Method, req.URL)
	return nil, errdefs.ErrPermissionDenied
}
