package objectstore

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"berth.dev/berth/internal/errdefs"
)

// failingReader returns n bytes of data and then err.
type failingReader struct {
	n   int
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, f.err
	}
	k := min(len(p), f.n)
	for i := range p[:k] {
		p[i] = 'x'
	}
	f.n -= k
	return k, nil
}

func TestStore_PutObject_FailedBody(t *testing.T) {
	s, blobDir := newTestStore(t, Options{})
	ctx := t.Context()
	if err := s.CreateBucket(ctx, "bkt"); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("connection reset")
	_, err := s.PutObject(ctx, "bkt", "k", &failingReader{n: 3 << 20, err: boom}, "")
	if !errors.Is(err, boom) || !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Fatalf("PutObject with a failing body: %v, want the body's error as an invalid argument", err)
	}
	if _, _, err := s.OpenObject(ctx, "bkt", "k", ""); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("OpenObject after a failed put: %v, want ErrNotFound", err)
	}
	if files := filesUnder(t, blobDir); len(files) != 0 {
		t.Errorf("files after a failed put: %v", files)
	}
}

func TestStore_PutObject_Errors(t *testing.T) {
	s, _ := newTestStore(t, Options{MaxObjectSize: 10})
	ctx := t.Context()
	if err := s.CreateBucket(ctx, "bkt"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, bucket, key, body string
		kind                    error
	}{
		{"missing bucket", "nobucket", "k", "x", errdefs.ErrNotFound},
		{"invalid bucket", "B", "k", "x", errdefs.ErrInvalidArgument},
		{"empty key", "bkt", "", "x", errdefs.ErrInvalidArgument},
		{"non-UTF-8 key", "bkt", "\xff", "x", errdefs.ErrInvalidArgument},
		{"too large", "bkt", "k", "01234567890", errdefs.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.PutObject(ctx, tt.bucket, tt.key, strings.NewReader(tt.body), "")
			if !errors.Is(err, tt.kind) {
				t.Errorf("PutObject: %v, want %v", err, tt.kind)
			}
		})
	}
	if _, err := s.PutObject(ctx, "bkt", "k", strings.NewReader("0123456789"), ""); err != nil {
		t.Errorf("PutObject at exactly the limit: %v", err)
	}
}

func TestStore_CreateBucket_Errors(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	ctx := t.Context()
	if err := s.CreateBucket(ctx, "b-1.x"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateBucket(ctx, "b-1.x"); !errors.Is(err, errdefs.ErrConflict) {
		t.Errorf("CreateBucket twice: %v, want ErrConflict", err)
	}
	if err := s.DeleteBucket(ctx, "nope-bucket"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("DeleteBucket missing: %v, want ErrNotFound", err)
	}
	if err := s.DeleteObject(ctx, "nope-bucket", "k"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("DeleteObject in a missing bucket: %v, want ErrNotFound", err)
	}
}

func TestStore_OpenObject(t *testing.T) {
	s, blobDir := newTestStore(t, Options{})
	ctx := t.Context()
	if err := s.CreateBucket(ctx, "bkt"); err != nil {
		t.Fatal(err)
	}
	obj, err := s.PutObject(ctx, "bkt", "zip", strings.NewReader("zip bytes"), "application/zip")
	if err != nil {
		t.Fatal(err)
	}
	rc, info, err := s.OpenObject(ctx, "bkt", "zip", obj.VersionID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	_ = rc.Close()
	if err != nil || string(got) != "zip bytes" {
		t.Fatalf("read = %q, %v", got, err)
	}
	wantInfo := []any{obj.Size, obj.Digest, obj.ETag, obj.VersionID}
	if diff := cmp.Diff(wantInfo, []any{info.Size, info.Digest, info.ETag, info.VersionID}); diff != "" {
		t.Errorf("info (-want +got):\n%s", diff)
	}

	for _, tt := range []struct{ name, bucket, key, version string }{
		{"missing bucket", "nobucket", "zip", ""},
		{"missing key", "bkt", "nozip", ""},
		{"missing version", "bkt", "zip", "v-none"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := s.OpenObject(ctx, tt.bucket, tt.key, tt.version); !errors.Is(err, errdefs.ErrNotFound) {
				t.Errorf("OpenObject: %v, want ErrNotFound", err)
			}
		})
	}

	// A blob whose content no longer matches its digest fails the read at EOF.
	p, err := s.blobs.path(obj.Digest)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("zip bytez"), 0o600); err != nil {
		t.Fatal(err)
	}
	rc, _, err = s.OpenObject(ctx, "bkt", "zip", "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(rc)
	_ = rc.Close()
	if err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("reading a corrupt blob: %v, want a corruption error", err)
	}
	// A blob that is gone while its row exists is an internal error, not a missing object.
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.OpenObject(ctx, "bkt", "zip", ""); err == nil || errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("OpenObject with a lost blob: %v, want an internal error", err)
	}
	_ = blobDir
}

func TestStore_DeleteObject_CollectsBlobs(t *testing.T) {
	s, blobDir := newTestStore(t, Options{})
	ctx := t.Context()
	if err := s.CreateBucket(ctx, "bkt"); err != nil {
		t.Fatal(err)
	}
	put := func(key, body string) {
		t.Helper()
		if _, err := s.PutObject(ctx, "bkt", key, strings.NewReader(body), ""); err != nil {
			t.Fatal(err)
		}
	}
	put("one", "shared content")
	put("two", "shared content")
	put("three", "v1")
	put("three", "v2")
	if n := len(filesUnder(t, blobDir)); n != 3 {
		t.Fatalf("%d blobs, want 3 (one shared, two versions)", n)
	}
	steps := []struct {
		key       string
		wantBlobs int
	}{
		{"one", 3},   // "two" still references the shared blob
		{"two", 2},   // now unreferenced
		{"three", 0}, // both versions go
	}
	for _, st := range steps {
		if err := s.DeleteObject(ctx, "bkt", st.key); err != nil {
			t.Fatalf("DeleteObject(%s): %v", st.key, err)
		}
		if n := len(filesUnder(t, blobDir)); n != st.wantBlobs {
			t.Errorf("after deleting %s: %d blobs, want %d", st.key, n, st.wantBlobs)
		}
	}
}

func TestStore_CollectGarbage(t *testing.T) {
	s, blobDir := newTestStore(t, Options{})
	ctx := t.Context()
	if err := s.CreateBucket(ctx, "bkt"); err != nil {
		t.Fatal(err)
	}
	kept, err := s.PutObject(ctx, "bkt", "kept", strings.NewReader("kept"), "")
	if err != nil {
		t.Fatal(err)
	}
	// An orphan, as a crash between the blob's rename and the row's commit leaves it.
	orphan := "sha256:" + strings.Repeat("ab", 32)
	p, err := s.blobs.path(orphan)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("orphan"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A stranger's file in the blob tree is left alone.
	stranger := filepath.Join(blobDir, "sha256", "README")
	if err := os.WriteFile(stranger, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	n, err := s.CollectGarbage(ctx)
	if err != nil || n != 1 {
		t.Fatalf("CollectGarbage = %d, %v; want 1 removed", n, err)
	}
	keptPath, _ := s.blobs.path(kept.Digest)
	for _, f := range []string{keptPath, stranger} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("%s: %v, want it kept", f, err)
		}
	}
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("orphan blob: %v, want it removed", err)
	}
}

func TestNew_RemovesInterruptedUploads(t *testing.T) {
	s, blobDir := newTestStore(t, Options{})
	leftover := filepath.Join(blobDir, "tmp", "put-123")
	if err := os.WriteFile(leftover, []byte("half an upload"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(s.db, blobDir, testLogger(t), Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(leftover); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("leftover upload: %v, want it removed", err)
	}
}

// TestStore_ConcurrentPutDelete races puts and deletes of the same content under different
// keys: the per-digest lock must never let a delete's collection remove a blob that a
// concurrent put has just committed a row for.
func TestStore_ConcurrentPutDelete(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	ctx := t.Context()
	if err := s.CreateBucket(ctx, "race"); err != nil {
		t.Fatal(err)
	}
	content := []byte("the same bytes everywhere")
	const workers, rounds = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds*2)
	for w := range workers {
		wg.Go(func() {
			for i := range rounds {
				key := fmt.Sprintf("w%d-%d", w, i%3)
				if _, err := s.PutObject(ctx, "race", key, bytes.NewReader(content), ""); err != nil {
					errs <- err
				}
				if i%2 == 1 {
					if err := s.DeleteObject(ctx, "race", fmt.Sprintf("w%d-%d", (w+1)%workers, i%3)); err != nil {
						errs <- err
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent operation: %v", err)
	}
	page, err := s.list(ctx, "race", listQuery{maxKeys: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.objects) == 0 {
		t.Fatal("no objects survived; the test proves nothing")
	}
	for _, o := range page.objects {
		rc, _, err := s.OpenObject(ctx, "race", o.Key, "")
		if err != nil {
			t.Errorf("OpenObject(%s): %v", o.Key, err)
			continue
		}
		got, err := io.ReadAll(rc)
		_ = rc.Close()
		if err != nil || !bytes.Equal(got, content) {
			t.Errorf("object %s = %q, %v", o.Key, got, err)
		}
	}
}
