package registry_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"berth.dev/berth/internal/errdefs"
)

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// pushBlob uploads b monolithically and fails the test unless it is created.
func (e *env) pushBlob(t *testing.T, repo string, b []byte) string {
	t.Helper()
	d := sha(b)
	status, _, body := e.do(t, http.MethodPost, "/v2/"+repo+"/blobs/uploads/?digest="+d, bytes.NewReader(b), nil)
	if status != http.StatusCreated {
		t.Fatalf("monolithic upload: status %d: %s", status, body)
	}
	return d
}

func TestRegistry_Handler_ChunkedUpload(t *testing.T) {
	e := newTestEnv(t)
	blob := bytes.Repeat([]byte("0123456789abcdef"), 1000) // 16000 bytes
	chunk1, chunk2, chunk3 := blob[:5000], blob[5000:12000], blob[12000:]
	d := sha(blob)

	status, hdr, body := e.do(t, http.MethodPost, "/v2/team/agent/blobs/uploads/", nil, nil)
	if status != http.StatusAccepted {
		t.Fatalf("start upload: %d %s", status, body)
	}
	loc := hdr.Get("Location")
	if loc == "" || hdr.Get("Docker-Upload-UUID") == "" {
		t.Fatalf("start upload: Location %q, Docker-Upload-UUID %q", loc, hdr.Get("Docker-Upload-UUID"))
	}

	patch := func(chunk []byte, start int) (int, http.Header, []byte) {
		return e.do(t, http.MethodPatch, loc, bytes.NewReader(chunk), map[string]string{
			"Content-Type":  "application/octet-stream",
			"Content-Range": fmt.Sprintf("%d-%d", start, start+len(chunk)-1),
		})
	}
	if status, hdr, body := patch(chunk1, 0); status != http.StatusAccepted || hdr.Get("Range") != "0-4999" {
		t.Fatalf("first chunk: %d Range %q %s", status, hdr.Get("Range"), body)
	}
	// Out of order: the registry must refuse and say where the upload stands.
	status, hdr, body = patch(chunk3, 12000)
	if status != http.StatusRequestedRangeNotSatisfiable || hdr.Get("Range") != "0-4999" {
		t.Fatalf("out-of-order chunk: %d Range %q %s", status, hdr.Get("Range"), body)
	}
	if status, hdr, body := patch(chunk2, 5000); status != http.StatusAccepted || hdr.Get("Range") != "0-11999" {
		t.Fatalf("second chunk: %d Range %q %s", status, hdr.Get("Range"), body)
	}
	if status, hdr, _ := e.do(t, http.MethodGet, loc, nil, nil); status != http.StatusNoContent || hdr.Get("Range") != "0-11999" {
		t.Fatalf("upload status: %d Range %q", status, hdr.Get("Range"))
	}
	// The last chunk rides on the PUT that finishes the upload.
	status, hdr, body = e.do(t, http.MethodPut, loc+"?digest="+url.QueryEscape(d), bytes.NewReader(chunk3), nil)
	if status != http.StatusCreated || hdr.Get("Docker-Content-Digest") != d {
		t.Fatalf("finish upload: %d digest %q %s", status, hdr.Get("Docker-Content-Digest"), body)
	}
	if status, _, _ := e.do(t, http.MethodGet, loc, nil, nil); status != http.StatusNotFound {
		t.Errorf("finished upload still has status %d, want 404", status)
	}

	status, _, got := e.do(t, http.MethodGet, "/v2/team/agent/blobs/"+d, nil, nil)
	if status != http.StatusOK || !bytes.Equal(got, blob) {
		t.Fatalf("get blob: %d, %d bytes, equal %v", status, len(got), bytes.Equal(got, blob))
	}
	status, hdr, _ = e.do(t, http.MethodHead, "/v2/team/agent/blobs/"+d, nil, nil)
	if status != http.StatusOK || hdr.Get("Content-Length") != strconv.Itoa(len(blob)) || hdr.Get("Docker-Content-Digest") != d {
		t.Errorf("head blob: %d length %q digest %q", status, hdr.Get("Content-Length"), hdr.Get("Docker-Content-Digest"))
	}
	status, _, got = e.do(t, http.MethodGet, "/v2/team/agent/blobs/"+d, nil, map[string]string{"Range": "bytes=100-199"})
	if status != http.StatusPartialContent || !bytes.Equal(got, blob[100:200]) {
		t.Errorf("ranged get: %d %q", status, got)
	}
}

func TestRegistry_Handler_UploadErrors(t *testing.T) {
	e := newTestEnv(t)
	good := []byte("hello blob")
	other := []byte("other content")
	known := e.pushBlob(t, "team/a", good)

	startUpload := func(t *testing.T) string {
		t.Helper()
		status, hdr, body := e.do(t, http.MethodPost, "/v2/team/agent/blobs/uploads/", nil, nil)
		if status != http.StatusAccepted {
			t.Fatalf("start upload: %d %s", status, body)
		}
		return hdr.Get("Location")
	}

	tests := []struct {
		name       string
		method     string
		path       func(t *testing.T) string
		body       []byte
		wantStatus int
		wantCode   string
	}{
		{
			name: "monolithic digest mismatch", method: http.MethodPost,
			path: func(*testing.T) string { return "/v2/team/agent/blobs/uploads/?digest=" + sha(other) },
			body: good, wantStatus: http.StatusBadRequest, wantCode: "DIGEST_INVALID",
		},
		{
			name: "finish with digest mismatch", method: http.MethodPut,
			path: func(t *testing.T) string { return startUpload(t) + "?digest=" + sha(other) },
			body: good, wantStatus: http.StatusBadRequest, wantCode: "DIGEST_INVALID",
		},
		{
			name: "finish without digest", method: http.MethodPut,
			path: startUpload, body: good, wantStatus: http.StatusBadRequest, wantCode: "DIGEST_INVALID",
		},
		{
			name: "unknown upload", method: http.MethodPatch,
			path: func(*testing.T) string { return "/v2/team/agent/blobs/uploads/0123456789abcdef0123456789abcdef" },
			body: good, wantStatus: http.StatusNotFound, wantCode: "BLOB_UPLOAD_UNKNOWN",
		},
		{
			name: "unknown blob", method: http.MethodGet,
			path:       func(*testing.T) string { return "/v2/team/agent/blobs/" + sha(other) },
			wantStatus: http.StatusNotFound, wantCode: "BLOB_UNKNOWN",
		},
		{
			name: "invalid digest", method: http.MethodGet,
			path:       func(*testing.T) string { return "/v2/team/agent/blobs/sha256:xyz" },
			wantStatus: http.StatusBadRequest, wantCode: "DIGEST_INVALID",
		},
		{
			name: "invalid name", method: http.MethodGet,
			path:       func(*testing.T) string { return "/v2/Team/Agent/blobs/" + known },
			wantStatus: http.StatusBadRequest, wantCode: "NAME_INVALID",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := e.do(t, tt.method, tt.path(t), bytes.NewReader(tt.body), nil)
			if status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", status, tt.wantStatus, body)
			}
			if code := errorCode(t, body); code != tt.wantCode {
				t.Errorf("code %s, want %s", code, tt.wantCode)
			}
		})
	}

	t.Run("cross-repository mount", func(t *testing.T) {
		status, hdr, body := e.do(t, http.MethodPost, "/v2/team/b/blobs/uploads/?mount="+known+"&from=team/a", nil, nil)
		if status != http.StatusCreated || hdr.Get("Docker-Content-Digest") != known || hdr.Get("Location") != "/v2/team/b/blobs/"+known {
			t.Fatalf("mount: %d %v %s", status, hdr, body)
		}
		status, hdr, body = e.do(t, http.MethodPost, "/v2/team/b/blobs/uploads/?mount="+sha(other)+"&from=team/a", nil, nil)
		if status != http.StatusAccepted || hdr.Get("Location") == "" {
			t.Fatalf("mount of unknown blob should start an upload: %d %v %s", status, hdr, body)
		}
	})

	t.Run("cancel upload", func(t *testing.T) {
		loc := startUpload(t)
		if status, _, body := e.do(t, http.MethodDelete, loc, nil, nil); status != http.StatusNoContent {
			t.Fatalf("cancel: %d %s", status, body)
		}
		if status, _, _ := e.do(t, http.MethodGet, loc, nil, nil); status != http.StatusNotFound {
			t.Errorf("cancelled upload status %d, want 404", status)
		}
	})
}

// putManifest PUTs a manifest and returns status and body.
func (e *env) putManifest(t *testing.T, repo, ref string, mt types.MediaType, m any) (int, http.Header, []byte) {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return e.do(t, http.MethodPut, "/v2/"+repo+"/manifests/"+ref, bytes.NewReader(b), map[string]string{"Content-Type": string(mt)})
}

func imageManifest(t *testing.T, config, layer string, sizes ...int64) v1.Manifest {
	t.Helper()
	ch, err := v1.NewHash(config)
	if err != nil {
		t.Fatal(err)
	}
	lh, err := v1.NewHash(layer)
	if err != nil {
		t.Fatal(err)
	}
	var cs, ls int64
	if len(sizes) == 2 {
		cs, ls = sizes[0], sizes[1]
	}
	return v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Config:        v1.Descriptor{MediaType: types.OCIConfigJSON, Digest: ch, Size: cs},
		Layers:        []v1.Descriptor{{MediaType: types.OCILayer, Digest: lh, Size: ls}},
	}
}

func TestRegistry_Handler_ManifestReferences(t *testing.T) {
	e := newTestEnv(t)
	cfg := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	layer := []byte("not really a tarball, but a blob")
	cd, ld := e.pushBlob(t, "team/agent", cfg), e.pushBlob(t, "team/agent", layer)
	missing := sha([]byte("never pushed"))

	tests := []struct {
		name       string
		mt         types.MediaType
		manifest   any
		wantStatus int
		wantCode   string
	}{
		{"missing layer", types.OCIManifestSchema1, imageManifest(t, cd, missing), http.StatusBadRequest, "MANIFEST_BLOB_UNKNOWN"},
		{"missing config", types.OCIManifestSchema1, imageManifest(t, missing, ld), http.StatusBadRequest, "MANIFEST_BLOB_UNKNOWN"},
		{"wrong blob size", types.OCIManifestSchema1, imageManifest(t, cd, ld, int64(len(cfg)), 3), http.StatusBadRequest, "MANIFEST_INVALID"},
		{"unsupported media type", "application/vnd.example+json", imageManifest(t, cd, ld), http.StatusBadRequest, "MANIFEST_INVALID"},
		{"not json", types.OCIManifestSchema1, "garbage", http.StatusBadRequest, "MANIFEST_INVALID"},
		{"index with unknown child", types.OCIImageIndex, v1.IndexManifest{
			SchemaVersion: 2, MediaType: types.OCIImageIndex,
			Manifests: []v1.Descriptor{{MediaType: types.OCIManifestSchema1, Digest: v1.Hash{Algorithm: "sha256", Hex: missing[7:]}, Size: 10}},
		}, http.StatusBadRequest, "MANIFEST_BLOB_UNKNOWN"},
		{"complete image", types.OCIManifestSchema1, imageManifest(t, cd, ld, int64(len(cfg)), int64(len(layer))), http.StatusCreated, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := e.putManifest(t, "team/agent", "v1", tt.mt, tt.manifest)
			if status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", status, tt.wantStatus, body)
			}
			if tt.wantCode != "" {
				if code := errorCode(t, body); code != tt.wantCode {
					t.Errorf("code %s, want %s", code, tt.wantCode)
				}
			}
		})
	}

	t.Run("digest reference must match", func(t *testing.T) {
		status, _, body := e.putManifest(t, "team/agent", missing, types.OCIManifestSchema1, imageManifest(t, cd, ld))
		if status != http.StatusBadRequest || errorCode(t, body) != "DIGEST_INVALID" {
			t.Fatalf("status %d: %s", status, body)
		}
	})
}

func TestRegistry_Handler_TagsCatalogDelete(t *testing.T) {
	e := newTestEnv(t)
	img := e.pushImage(t, "team/agent:v2")
	for _, tag := range []string{"latest", "v1"} {
		if err := pushTag(t, e, "team/agent:"+tag, img); err != nil {
			t.Fatalf("tag %s: %v", tag, err)
		}
	}
	e.pushImage(t, "solo:1")

	status, _, body := e.do(t, http.MethodGet, "/v2/team/agent/tags/list", nil, nil)
	if status != http.StatusOK {
		t.Fatalf("tags list: %d %s", status, body)
	}
	var tl struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}
	if err := json.Unmarshal(body, &tl); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(struct {
		Name string
		Tags []string
	}{"team/agent", []string{"latest", "v1", "v2"}}, struct {
		Name string
		Tags []string
	}{tl.Name, tl.Tags}); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}

	status, hdr, body := e.do(t, http.MethodGet, "/v2/team/agent/tags/list?n=2", nil, nil)
	if status != http.StatusOK || !bytes.Contains(body, []byte(`["latest","v1"]`)) || hdr.Get("Link") == "" {
		t.Errorf("paginated tags: %d Link %q %s", status, hdr.Get("Link"), body)
	}
	status, _, body = e.do(t, http.MethodGet, "/v2/team/agent/tags/list?n=2&last=v1", nil, nil)
	if status != http.StatusOK || !bytes.Contains(body, []byte(`["v2"]`)) {
		t.Errorf("second page: %d %s", status, body)
	}
	status, _, body = e.do(t, http.MethodGet, "/v2/nobody/tags/list", nil, nil)
	if status != http.StatusNotFound || errorCode(t, body) != "NAME_UNKNOWN" {
		t.Errorf("unknown repository: %d %s", status, body)
	}

	status, _, body = e.do(t, http.MethodGet, "/v2/_catalog", nil, nil)
	if status != http.StatusOK || !bytes.Equal(body, []byte(`{"repositories":["solo","team/agent"]}`)) {
		t.Errorf("catalog: %d %s", status, body)
	}

	d := mustDigest(t, img).String()
	status, _, body = e.do(t, http.MethodDelete, "/v2/team/agent/manifests/v1", nil, nil)
	if status != http.StatusMethodNotAllowed || errorCode(t, body) != "UNSUPPORTED" {
		t.Errorf("delete by tag: %d %s", status, body)
	}
	if status, _, body := e.do(t, http.MethodDelete, "/v2/team/agent/manifests/"+d, nil, nil); status != http.StatusAccepted {
		t.Fatalf("delete by digest: %d %s", status, body)
	}
	for _, ref := range []string{d, "v1", "latest"} {
		status, _, body := e.do(t, http.MethodGet, "/v2/team/agent/manifests/"+ref, nil, nil)
		if status != http.StatusNotFound || errorCode(t, body) != "MANIFEST_UNKNOWN" {
			t.Errorf("get %s after delete: %d %s", ref, status, body)
		}
	}
	if status, _, body := e.do(t, http.MethodDelete, "/v2/team/agent/manifests/"+d, nil, nil); status != http.StatusNotFound {
		t.Errorf("second delete: %d %s", status, body)
	}
	// The other repository is untouched.
	if status, _, body := e.do(t, http.MethodHead, "/v2/solo/manifests/1", nil, nil); status != http.StatusOK {
		t.Errorf("other repository after delete: %d %s", status, body)
	}
}

func pushTag(t *testing.T, e *env, ref string, img v1.Image) error {
	t.Helper()
	raw, err := img.RawManifest()
	if err != nil {
		return err
	}
	mt, err := img.MediaType()
	if err != nil {
		return err
	}
	i := strings.LastIndex(ref, ":")
	repo, tag := ref[:i], ref[i+1:]
	status, _, body := e.do(t, http.MethodPut, "/v2/"+repo+"/manifests/"+tag, bytes.NewReader(raw), map[string]string{"Content-Type": string(mt)})
	if status != http.StatusCreated {
		return fmt.Errorf("put manifest: %d %s", status, body)
	}
	return nil
}

func TestRegistry_Local(t *testing.T) {
	e := newTestEnv(t)
	img := e.pushImage(t, "team/agent:v1")
	want := mustDigest(t, img)
	ctx := t.Context()

	d, err := e.reg.Resolve(ctx, "team/agent", "v1")
	if err != nil {
		t.Fatalf("resolve: %v", err)
	}
	if d.Digest != want || !d.MediaType.IsImage() {
		t.Errorf("resolve: %+v, want digest %s", d, want)
	}
	got, err := e.reg.Image(ctx, "team/agent", want.String())
	if err != nil {
		t.Fatalf("image: %v", err)
	}
	if g := mustDigest(t, got); g != want {
		t.Errorf("local image digest %s, want %s", g, want)
	}
	if diff := cmp.Diff(layerDigests(t, img), layerDigests(t, got)); diff != "" {
		t.Errorf("local layers (-want +got):\n%s", diff)
	}
	wantCfg, err := img.RawConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	gotCfg, err := got.RawConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(wantCfg, gotCfg) {
		t.Error("local config differs from the pushed one")
	}
	if _, err := e.reg.Index(ctx, "team/agent", "v1"); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("index of an image: %v, want ErrInvalidArgument", err)
	}
	for _, ref := range []string{"nope", sha([]byte("x"))} {
		if _, err := e.reg.Image(ctx, "team/agent", ref); !errors.Is(err, errdefs.ErrNotFound) {
			t.Errorf("image %s: %v, want ErrNotFound", ref, err)
		}
	}
}
