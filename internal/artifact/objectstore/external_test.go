package objectstore

import (
	"errors"
	"io"
	"strings"
	"testing"

	"berth.dev/berth/internal/artifact"
	"berth.dev/berth/internal/errdefs"
)

func readAll(t *testing.T, src artifact.ObjectSource, bucket, key, version string) (string, artifact.ObjectInfo) {
	t.Helper()
	rc, info, err := src.OpenObject(t.Context(), bucket, key, version)
	if err != nil {
		t.Fatalf("OpenObject(%s/%s@%s): %v", bucket, key, version, err)
	}
	defer func() { _ = rc.Close() }()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s/%s: %v", bucket, key, err)
	}
	return string(b), info
}

// TestExternal_OpenObject points the SDK-based source at a second instance of the handler:
// a real S3-compatible server on loopback, with SigV4 verification.
func TestExternal_OpenObject(t *testing.T) {
	remote := newTestServer(t, serverOptions{tls: true})
	mustCreateBucket(t, remote.client, "ext-bucket")
	v1 := mustPut(t, remote.client, "ext-bucket", "agent/code.zip", []byte("remote v1"))
	v2 := mustPut(t, remote.client, "ext-bucket", "agent/code.zip", []byte("remote v2"))

	ext, err := NewExternal(ExternalConfig{
		Endpoint:        remote.srv.URL + "/s3",
		Region:          testRegion,
		AccessKeyID:     testKeyID,
		SecretAccessKey: testSecret,
		PathStyle:       true,
		Buckets:         []string{"ext-bucket"},
		HTTPClient:      remote.srv.Client(),
	})
	if err != nil {
		t.Fatalf("NewExternal: %v", err)
	}
	body, info := readAll(t, ext, "ext-bucket", "agent/code.zip", "")
	if body != "remote v2" || info.VersionID != *v2.VersionId || info.ETag != *v2.ETag || info.Size != 9 {
		t.Errorf("current = %q %+v", body, info)
	}
	if info.Digest != "" {
		t.Errorf("Digest = %q, want empty (the endpoint sent no SHA-256 checksum)", info.Digest)
	}
	if body, _ := readAll(t, ext, "ext-bucket", "agent/code.zip", *v1.VersionId); body != "remote v1" {
		t.Errorf("version 1 = %q", body)
	}
	for _, tt := range []struct{ name, bucket, key, version string }{
		{"missing key", "ext-bucket", "nope", ""},
		{"missing bucket", "no-bucket", "agent/code.zip", ""},
		{"missing version", "ext-bucket", "agent/code.zip", "v-none"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := ext.OpenObject(t.Context(), tt.bucket, tt.key, tt.version); !errors.Is(err, errdefs.ErrNotFound) {
				t.Errorf("OpenObject: %v, want ErrNotFound", err)
			}
		})
	}

	wrong, err := NewExternal(ExternalConfig{
		Endpoint: remote.srv.URL + "/s3", AccessKeyID: testKeyID, SecretAccessKey: "wrong",
		PathStyle: true, HTTPClient: remote.srv.Client(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := wrong.OpenObject(t.Context(), "ext-bucket", "agent/code.zip", ""); !errors.Is(err, errdefs.ErrPermissionDenied) {
		t.Errorf("OpenObject with a wrong secret: %v, want ErrPermissionDenied", err)
	}
	if !wrong.Handles("anything") || !ext.Handles("ext-bucket") || ext.Handles("other-bucket") {
		t.Error("Handles: an empty Buckets list must mean every bucket, a list only those")
	}
}

func TestRouter_OpenObject(t *testing.T) {
	remote := newTestServer(t, serverOptions{})
	mustCreateBucket(t, remote.client, "ext-bucket")
	mustPut(t, remote.client, "ext-bucket", "code.zip", []byte("from external"))

	local, _ := newTestStore(t, Options{})
	for _, b := range []string{"ext-bucket", "local-bucket"} {
		if err := local.CreateBucket(t.Context(), b); err != nil {
			t.Fatal(err)
		}
		if _, err := local.PutObject(t.Context(), b, "code.zip", strings.NewReader("from built-in "+b), ""); err != nil {
			t.Fatal(err)
		}
	}
	ext, err := NewExternal(ExternalConfig{
		Endpoint: remote.srv.URL + "/s3", AccessKeyID: testKeyID, SecretAccessKey: testSecret,
		PathStyle: true, Buckets: []string{"ext-bucket"}, HTTPClient: remote.srv.Client(),
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		router *Router
		bucket string
		want   string
	}{
		{"configured bucket goes out", NewRouter(local, ext), "ext-bucket", "from external"},
		{"other bucket stays in", NewRouter(local, ext), "local-bucket", "from built-in local-bucket"},
		{"no external", NewRouter(local, nil), "ext-bucket", "from built-in ext-bucket"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, _ := readAll(t, tt.router, tt.bucket, "code.zip", ""); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNewExternal_Invalid(t *testing.T) {
	tests := map[string]ExternalConfig{
		"endpoint without scheme": {Endpoint: "s3.example.com"},
		"endpoint ftp":            {Endpoint: "ftp://s3.example.com"},
		"secret without key":      {SecretAccessKey: "s"},
		"invalid bucket":          {Buckets: []string{"Bad_Bucket"}},
	}
	for name, cfg := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := NewExternal(cfg); !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Errorf("NewExternal: %v, want ErrInvalidArgument", err)
			}
		})
	}
}
