package registry_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"berth.dev/berth/internal/artifact/registry"
	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/store"
	"berth.dev/berth/internal/store/sqlite"
)

const (
	testKeyID  = "AKIATESTREGISTRY0001"
	testSecret = "s3cr3t-registry-key"
)

// keyAuth accepts exactly one access key.
type keyAuth struct{}

func (keyAuth) CheckBasic(_ context.Context, id, secret string) error {
	if id == testKeyID && secret == testSecret {
		return nil
	}
	return errdefs.ErrUnauthenticated
}

var _ registry.BasicAuthenticator = keyAuth{}

func testLogger(t *testing.T) *slog.Logger {
	t.Helper()
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func openStore(t *testing.T, path string) store.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), path, testLogger(t))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	return st
}

// env is one registry served over loopback HTTP.
type env struct {
	reg  *registry.Registry
	srv  *httptest.Server
	host string // 127.0.0.1:port
}

func newEnv(t *testing.T, st store.Store, dir string) *env {
	t.Helper()
	reg, err := registry.New(st, dir, testLogger(t), keyAuth{})
	if err != nil {
		t.Fatalf("registry.New: %v", err)
	}
	srv := httptest.NewServer(reg.Handler())
	t.Cleanup(srv.Close)
	return &env{reg: reg, srv: srv, host: strings.TrimPrefix(srv.URL, "http://")}
}

func newTestEnv(t *testing.T) *env {
	t.Helper()
	st := openStore(t, filepath.Join(t.TempDir(), "berth.db"))
	t.Cleanup(func() { _ = st.Close() })
	return newEnv(t, st, t.TempDir())
}

func (e *env) ref(t *testing.T, s string) name.Reference {
	t.Helper()
	ref, err := name.ParseReference(e.host + "/" + s)
	if err != nil {
		t.Fatalf("parse reference: %v", err)
	}
	return ref
}

func auth() remote.Option {
	return remote.WithAuth(&authn.Basic{Username: testKeyID, Password: testSecret})
}

// do sends an authenticated request and returns status, headers and body.
func (e *env) do(t *testing.T, method, path string, body io.Reader, hdr map[string]string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, e.srv.URL+path, body)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	req.SetBasicAuth(testKeyID, testSecret)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp.StatusCode, resp.Header, b
}

// errorCode decodes the distribution error shape and returns the first code.
func errorCode(t *testing.T, body []byte) string {
	t.Helper()
	var eb struct {
		Errors []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(body, &eb); err != nil || len(eb.Errors) == 0 {
		t.Fatalf("body %q is not a distribution error: %v", body, err)
	}
	if eb.Errors[0].Message == "" {
		t.Errorf("error %s has no message", eb.Errors[0].Code)
	}
	return eb.Errors[0].Code
}

func mustDigest(t *testing.T, d interface{ Digest() (v1.Hash, error) }) v1.Hash {
	t.Helper()
	h, err := d.Digest()
	if err != nil {
		t.Fatalf("digest: %v", err)
	}
	return h
}

func layerDigests(t *testing.T, img v1.Image) []string {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatalf("layers: %v", err)
	}
	var out []string
	for _, l := range layers {
		out = append(out, mustDigest(t, l).String())
	}
	return out
}

// pushImage pushes a random image to repo:tag and returns it.
func (e *env) pushImage(t *testing.T, repoTag string) v1.Image {
	t.Helper()
	img, err := random.Image(2048, 3)
	if err != nil {
		t.Fatalf("random image: %v", err)
	}
	if err := remote.Write(e.ref(t, repoTag), img, auth(), remote.WithContext(t.Context())); err != nil {
		t.Fatalf("push %s: %v", repoTag, err)
	}
	return img
}

func TestRegistry_Handler_PushPullImage(t *testing.T) {
	e := newTestEnv(t)
	img := e.pushImage(t, "team/agent:v1")
	want := mustDigest(t, img)

	for _, ref := range []string{"team/agent:v1", "team/agent@" + want.String()} {
		t.Run(ref, func(t *testing.T) {
			got, err := remote.Image(e.ref(t, ref), auth(), remote.WithContext(t.Context()))
			if err != nil {
				t.Fatalf("pull: %v", err)
			}
			if d := mustDigest(t, got); d != want {
				t.Errorf("pulled digest %s, pushed %s", d, want)
			}
			if diff := cmp.Diff(layerDigests(t, img), layerDigests(t, got)); diff != "" {
				t.Errorf("layers differ (-pushed +pulled):\n%s", diff)
			}
			// Read the layer bytes through the registry: a corrupt blob fails verification.
			layers, err := got.Layers()
			if err != nil {
				t.Fatalf("layers: %v", err)
			}
			for _, l := range layers {
				rc, err := l.Compressed()
				if err != nil {
					t.Fatalf("fetch layer: %v", err)
				}
				if _, err := io.Copy(io.Discard, rc); err != nil {
					t.Errorf("read layer: %v", err)
				}
				if err := rc.Close(); err != nil {
					t.Errorf("close layer: %v", err)
				}
			}
		})
	}
}

func TestRegistry_Handler_PushPullIndex(t *testing.T) {
	e := newTestEnv(t)
	idx, err := random.Index(1024, 2, 3)
	if err != nil {
		t.Fatalf("random index: %v", err)
	}
	ref := e.ref(t, "team/multi:latest")
	if err := remote.WriteIndex(ref, idx, auth(), remote.WithContext(t.Context())); err != nil {
		t.Fatalf("push index: %v", err)
	}
	got, err := remote.Index(ref, auth(), remote.WithContext(t.Context()))
	if err != nil {
		t.Fatalf("pull index: %v", err)
	}
	if g, w := mustDigest(t, got), mustDigest(t, idx); g != w {
		t.Errorf("pulled index digest %s, pushed %s", g, w)
	}
	im, err := got.IndexManifest()
	if err != nil {
		t.Fatalf("index manifest: %v", err)
	}
	if len(im.Manifests) != 3 {
		t.Fatalf("index has %d manifests, want 3", len(im.Manifests))
	}
	for _, d := range im.Manifests {
		child, err := got.Image(d.Digest)
		if err != nil {
			t.Fatalf("child image: %v", err)
		}
		if _, err := child.ConfigFile(); err != nil {
			t.Errorf("child %s config: %v", d.Digest, err)
		}
	}
}

func TestRegistry_Handler_Auth(t *testing.T) {
	e := newTestEnv(t)
	tests := []struct {
		name       string
		id, secret string
		anonymous  bool
		wantStatus int
	}{
		{name: "anonymous", anonymous: true, wantStatus: http.StatusUnauthorized},
		{name: "wrong secret", id: testKeyID, secret: "nope", wantStatus: http.StatusUnauthorized},
		{name: "unknown key", id: "AKIAUNKNOWN", secret: testSecret, wantStatus: http.StatusUnauthorized},
		{name: "valid", id: testKeyID, secret: testSecret, wantStatus: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, e.srv.URL+"/v2/", nil)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.anonymous {
				req.SetBasicAuth(tt.id, tt.secret)
			}
			resp, err := e.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			if cerr := resp.Body.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if got := resp.Header.Get("Docker-Distribution-API-Version"); got != "registry/2.0" {
				t.Errorf("Docker-Distribution-API-Version = %q", got)
			}
			if tt.wantStatus != http.StatusUnauthorized {
				return
			}
			if got, want := resp.Header.Get("WWW-Authenticate"), `Basic realm="berth"`; got != want {
				t.Errorf("WWW-Authenticate = %q, want %q", got, want)
			}
			if code := errorCode(t, body); code != "UNAUTHORIZED" {
				t.Errorf("code %s, want UNAUTHORIZED", code)
			}
		})
	}

	t.Run("client with wrong password", func(t *testing.T) {
		img, err := random.Image(100, 1)
		if err != nil {
			t.Fatal(err)
		}
		err = remote.Write(e.ref(t, "x/y:z"), img, remote.WithContext(t.Context()),
			remote.WithAuth(&authn.Basic{Username: testKeyID, Password: "wrong"}))
		var te *transport.Error
		if !errors.As(err, &te) || te.StatusCode != http.StatusUnauthorized {
			t.Fatalf("push with wrong password: %v, want a 401 transport error", err)
		}
	})
}

func TestRegistry_New_PersistsAcrossRestart(t *testing.T) {
	dir, dbPath := t.TempDir(), filepath.Join(t.TempDir(), "berth.db")
	st := openStore(t, dbPath)
	e := newEnv(t, st, dir)
	img := e.pushImage(t, "team/agent:v1")
	e.srv.Close()
	if err := st.Close(); err != nil {
		t.Fatalf("close store: %v", err)
	}

	st2 := openStore(t, dbPath)
	t.Cleanup(func() { _ = st2.Close() })
	e2 := newEnv(t, st2, dir)
	got, err := remote.Image(e2.ref(t, "team/agent:v1"), auth(), remote.WithContext(t.Context()))
	if err != nil {
		t.Fatalf("pull after restart: %v", err)
	}
	if g, w := mustDigest(t, got), mustDigest(t, img); g != w {
		t.Errorf("digest after restart %s, want %s", g, w)
	}
	if _, err := got.ConfigFile(); err != nil {
		t.Errorf("config after restart: %v", err)
	}
	if diff := cmp.Diff(layerDigests(t, img), layerDigests(t, got)); diff != "" {
		t.Errorf("layers after restart (-want +got):\n%s", diff)
	}
}
