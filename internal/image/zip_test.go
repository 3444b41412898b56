package image_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/image"
)

func codeArtifact(key string, entryPoint ...string) catalog.Artifact {
	if len(entryPoint) == 0 {
		entryPoint = []string{"opentelemetry-instrument", "main.py"}
	}
	return catalog.Artifact{CodeConfiguration: &catalog.CodeConfiguration{
		Code:       &catalog.Code{S3: &catalog.S3Location{Bucket: "code", Prefix: key}},
		Runtime:    "PYTHON_3_12",
		EntryPoint: entryPoint,
	}}
}

// lyingZip holds one deflated entry whose header claims 10 bytes but which inflates to 1 MiB.
func lyingZip(t *testing.T) []byte {
	t.Helper()
	payload := bytes.Repeat([]byte{0}, 1<<20)
	var deflated bytes.Buffer
	fw, err := flate.NewWriter(&deflated, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.Write(payload); err != nil {
		t.Fatal(err)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{
		Name: "main.py", Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(payload),
		CompressedSize64: uint64(deflated.Len()), UncompressedSize64: 10,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(deflated.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestPreparer_Prepare_CodeZip(t *testing.T) {
	zeros := strings.Repeat("\x00", 64<<10) // compresses to a few hundred bytes
	tests := []struct {
		name       string
		zip        func(t *testing.T) []byte
		entryPoint []string
		opts       image.Options
		wantKind   error  // nil means success
		wantReason string // substring of FailureReason
	}{
		{
			name: "valid",
			zip: func(t *testing.T) []byte {
				return makeZip(t,
					zipEntry{name: "main.py", body: "print('hi')\n"},
					zipEntry{name: "pkg/", mode: fs.ModeDir},
					zipEntry{name: "pkg/util.py", body: "X = 1\n"},
					zipEntry{name: "bin/run", body: "#!/bin/sh\n", mode: 0o755},
					zipEntry{name: "alias.py", body: "main.py", mode: fs.ModeSymlink},
					zipEntry{name: "pkg/up.py", body: "../main.py", mode: fs.ModeSymlink},
				)
			},
		},
		{
			name:       "entry point in a subdirectory",
			zip:        func(t *testing.T) []byte { return makeZip(t, zipEntry{name: "src/app.py", body: "pass"}) },
			entryPoint: []string{"python", "src/app.py"},
		},
		{
			name:       "not a zip",
			zip:        func(*testing.T) []byte { return []byte("this is plain text, not a zip archive at all") },
			wantKind:   errdefs.ErrInvalidArgument,
			wantReason: "is not a valid zip archive",
		},
		{
			name: "path traversal",
			zip: func(t *testing.T) []byte {
				return makeZip(t, zipEntry{name: "main.py", body: "x"}, zipEntry{name: "../x", body: "evil"})
			},
			wantKind:   errdefs.ErrInvalidArgument,
			wantReason: `entry "../x" escapes`,
		},
		{
			name: "absolute path",
			zip: func(t *testing.T) []byte {
				return makeZip(t, zipEntry{name: "main.py", body: "x"}, zipEntry{name: "/etc/x", body: "evil"})
			},
			wantKind:   errdefs.ErrInvalidArgument,
			wantReason: `entry "/etc/x" has an absolute path`,
		},
		{
			name: "symlink escaping the tree",
			zip: func(t *testing.T) []byte {
				return makeZip(t, zipEntry{name: "main.py", body: "x"},
					zipEntry{name: "passwd", body: "../../../etc/passwd", mode: fs.ModeSymlink})
			},
			wantKind:   errdefs.ErrInvalidArgument,
			wantReason: `symlink "passwd" points outside the code directory`,
		},
		{
			name: "absolute symlink",
			zip: func(t *testing.T) []byte {
				return makeZip(t, zipEntry{name: "main.py", body: "x"},
					zipEntry{name: "passwd", body: "/etc/passwd", mode: fs.ModeSymlink})
			},
			wantKind:   errdefs.ErrInvalidArgument,
			wantReason: `symlink "passwd" points outside the code directory`,
		},
		{
			// Each target looks local on its own, but a/b is the root, so c is its parent.
			name: "symlink chain escaping the tree",
			zip: func(t *testing.T) []byte {
				return makeZip(t, zipEntry{name: "main.py", body: "x"},
					zipEntry{name: "a/", mode: fs.ModeDir},
					zipEntry{name: "a/b", body: "..", mode: fs.ModeSymlink},
					zipEntry{name: "c", body: "a/b/..", mode: fs.ModeSymlink})
			},
			wantKind:   errdefs.ErrInvalidArgument,
			wantReason: `symlink "c" points outside the code directory`,
		},
		{
			name:       "missing entry point",
			zip:        func(t *testing.T) []byte { return makeZip(t, zipEntry{name: "app.py", body: "x"}) },
			wantKind:   errdefs.ErrInvalidArgument,
			wantReason: "entry point main.py is not a file in code zip s3://code/",
		},
		{
			name:       "entry point is a directory",
			zip:        func(t *testing.T) []byte { return makeZip(t, zipEntry{name: "main.py/", mode: fs.ModeDir}) },
			wantKind:   errdefs.ErrInvalidArgument,
			wantReason: "entry point main.py is not a file",
		},
		{
			name:       "empty entry point",
			zip:        func(t *testing.T) []byte { return makeZip(t, zipEntry{name: "main.py", body: "x"}) },
			entryPoint: []string{""},
			wantKind:   errdefs.ErrInvalidArgument,
			wantReason: "entryPoint is empty",
		},
		{
			name: "too big compressed",
			zip: func(t *testing.T) []byte {
				return makeZip(t, zipEntry{name: "main.py", body: incompressible(2000)})
			},
			opts:       image.Options{MaxZipBytes: 200},
			wantKind:   errdefs.ErrInvalidArgument,
			wantReason: "compressed; the limit is 200 bytes",
		},
		{
			name: "too big uncompressed",
			zip: func(t *testing.T) []byte {
				return makeZip(t, zipEntry{name: "main.py", body: "x"}, zipEntry{name: "zeros.bin", body: zeros})
			},
			opts:       image.Options{MaxUnzippedBytes: 32 << 10},
			wantKind:   errdefs.ErrInvalidArgument,
			wantReason: "extracts to more than the limit of 32768 bytes",
		},
		{
			name:       "header lies about the uncompressed size",
			zip:        lyingZip,
			opts:       image.Options{MaxUnzippedBytes: 32 << 10},
			wantKind:   errdefs.ErrInvalidArgument,
			wantReason: "is not a valid zip archive",
		},
		{
			name: "too many entries",
			zip: func(t *testing.T) []byte {
				return makeZip(t, zipEntry{name: "main.py", body: "x"}, zipEntry{name: "a", body: "x"}, zipEntry{name: "b", body: "x"})
			},
			opts:       image.Options{MaxZipEntries: 2},
			wantKind:   errdefs.ErrInvalidArgument,
			wantReason: "has 3 entries; the limit is 2",
		},
		{
			name: "duplicate entry",
			zip: func(t *testing.T) []byte {
				return makeZip(t, zipEntry{name: "main.py", body: "x"}, zipEntry{name: "./main.py", body: "y"})
			},
			wantKind:   errdefs.ErrInvalidArgument,
			wantReason: `entry "main.py" appears twice`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs := newObjects(t)
			data := tt.zip(t)
			putObject(t, objs, "agents/app.zip", data)
			dir := t.TempDir()
			p, err := image.New(dir, objs, nil, tt.opts, testLogger(t))
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			got, err := p.Prepare(t.Context(), codeArtifact("agents/app.zip", tt.entryPoint...))
			if tt.wantKind != nil {
				if !errors.Is(err, tt.wantKind) {
					t.Fatalf("err = %v, want kind %v", err, tt.wantKind)
				}
				if reason := image.FailureReason(err); !strings.Contains(reason, tt.wantReason) {
					t.Errorf("FailureReason = %q, want it to contain %q", reason, tt.wantReason)
				}
				assertNoTrees(t, dir)
				return
			}
			if err != nil {
				t.Fatalf("Prepare: %v", err)
			}
			sum := sha256.Sum256(data)
			hexSum := hex.EncodeToString(sum[:])
			want := catalog.PreparedArtifact{
				Kind: catalog.ArtifactCode, Digest: "sha256:" + hexSum,
				Path: filepath.Join(dir, "code", hexSum), Size: int64(len(data)),
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("prepared (-want +got):\n%s", diff)
			}
		})
	}
}

// assertNoTrees checks that a failed preparation left no tree and no temporary files.
func assertNoTrees(t *testing.T, dir string) {
	t.Helper()
	for _, sub := range []string{"code", "rootfs", "tmp"} {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			t.Fatalf("read %s: %v", sub, err)
		}
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".config.json") && sub == "rootfs" {
				continue
			}
			t.Errorf("left behind %s/%s", sub, e.Name())
		}
	}
}

func TestPreparer_Prepare_CodeZipContent(t *testing.T) {
	objs := newObjects(t)
	data := makeZip(t,
		zipEntry{name: "main.py", body: "print('hi')\n"},
		zipEntry{name: "pkg/util.py", body: "X = 1\n"},
		zipEntry{name: "bin/run", body: "#!/bin/sh\n", mode: 0o755},
		zipEntry{name: "alias.py", body: "main.py", mode: fs.ModeSymlink},
	)
	putObject(t, objs, "app.zip", data)
	p, err := image.New(t.TempDir(), objs, nil, image.Options{}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Prepare(t.Context(), codeArtifact("app.zip"))
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	files := map[string]string{"main.py": "print('hi')\n", "pkg/util.py": "X = 1\n", "bin/run": "#!/bin/sh\n", "alias.py": "print('hi')\n"}
	for name, want := range files {
		b, err := os.ReadFile(filepath.Join(got.Path, name))
		if err != nil {
			t.Errorf("read %s: %v", name, err)
			continue
		}
		if string(b) != want {
			t.Errorf("%s = %q, want %q", name, b, want)
		}
	}
	if fi, err := os.Stat(filepath.Join(got.Path, "bin/run")); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("bin/run mode: %v %v, want 0755", fi, err)
	}
	if fi, err := os.Stat(filepath.Join(got.Path, "main.py")); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("main.py mode: %v %v, want 0644", fi, err)
	}
	if target, err := os.Readlink(filepath.Join(got.Path, "alias.py")); err != nil || target != "main.py" {
		t.Errorf("alias.py -> %q (%v), want main.py", target, err)
	}

	// The same zip again is reused, not extracted again.
	marker := filepath.Join(got.Path, ".marker")
	if err := os.WriteFile(marker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	again, err := p.Prepare(t.Context(), codeArtifact("app.zip"))
	if err != nil {
		t.Fatalf("second Prepare: %v", err)
	}
	if diff := cmp.Diff(got, again); diff != "" {
		t.Errorf("second Prepare differs:\n%s", diff)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("tree was rebuilt instead of reused: %v", err)
	}
}

func TestPreparer_Prepare_CodeObjectNotFound(t *testing.T) {
	objs := newObjects(t)
	p, err := image.New(t.TempDir(), objs, nil, image.Options{}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, bucket, key string
		want              string
	}{
		{"missing key", "code", "nope.zip", "code object s3://code/nope.zip not found"},
		{"missing bucket", "nobucket", "app.zip", "code object s3://nobucket/app.zip not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			art := codeArtifact(tt.key)
			art.CodeConfiguration.Code.S3.Bucket = tt.bucket
			_, err := p.Prepare(t.Context(), art)
			if !errors.Is(err, errdefs.ErrNotFound) {
				t.Fatalf("err = %v, want ErrNotFound", err)
			}
			if got := image.FailureReason(err); got != tt.want {
				t.Errorf("FailureReason = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPreparer_Prepare_ConcurrentSameZip(t *testing.T) {
	objs := newObjects(t)
	var entries []zipEntry
	entries = append(entries, zipEntry{name: "main.py", body: "print(1)\n"})
	for i := range 200 {
		entries = append(entries, zipEntry{name: filepath.Join("lib", string(rune('a'+i%26)), strings.Repeat("f", 1+i/26)+".py"), body: strings.Repeat("x", i)})
	}
	data := makeZip(t, entries...)
	putObject(t, objs, "app.zip", data)
	dir := t.TempDir()
	p, err := image.New(dir, objs, nil, image.Options{}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	const n = 6
	results := make([]catalog.PreparedArtifact, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { results[i], errs[i] = p.Prepare(t.Context(), codeArtifact("app.zip")) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Prepare %d: %v", i, errs[i])
		}
		if diff := cmp.Diff(results[0], results[i]); diff != "" {
			t.Errorf("Prepare %d differs:\n%s", i, diff)
		}
	}
	count := 0
	err = filepath.WalkDir(results[0].Path, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			count++
		}
		return err
	})
	if err != nil || count != len(entries) {
		t.Errorf("tree has %d files (%v), want %d", count, err, len(entries))
	}
	if tmp, err := os.ReadDir(filepath.Join(dir, "tmp")); err != nil || len(tmp) != 0 {
		t.Errorf("temporary directory not clean: %v %v", tmp, err)
	}
}

func TestPreparer_GC(t *testing.T) {
	objs := newObjects(t)
	putObject(t, objs, "a.zip", makeZip(t, zipEntry{name: "main.py", body: "a"}))
	putObject(t, objs, "b.zip", makeZip(t, zipEntry{name: "main.py", body: "b"}))
	p, err := image.New(t.TempDir(), objs, nil, image.Options{GCGrace: 1}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	a, err := p.Prepare(t.Context(), codeArtifact("a.zip"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.Prepare(t.Context(), codeArtifact("b.zip"))
	if err != nil {
		t.Fatal(err)
	}
	removed, err := p.GC(t.Context(), map[string]bool{a.Digest: true})
	if err != nil || removed != 1 {
		t.Fatalf("GC = %d, %v; want 1 removed", removed, err)
	}
	if _, err := os.Stat(a.Path); err != nil {
		t.Errorf("kept tree is gone: %v", err)
	}
	if _, err := os.Stat(b.Path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("unkept tree still there: %v", err)
	}

	// With the default grace period a fresh tree survives even when not kept.
	p2, err := image.New(t.TempDir(), objs, nil, image.Options{}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p2.Prepare(t.Context(), codeArtifact("b.zip")); err != nil {
		t.Fatal(err)
	}
	if removed, err := p2.GC(t.Context(), nil); err != nil || removed != 0 {
		t.Errorf("GC of a fresh tree = %d, %v; want 0", removed, err)
	}
}

// incompressible returns n hex characters of a sha256 chain, which deflate barely shrinks.
func incompressible(n int) string {
	var b strings.Builder
	sum := sha256.Sum256([]byte("seed"))
	for b.Len() < n {
		b.WriteString(hex.EncodeToString(sum[:]))
		sum = sha256.Sum256(sum[:])
	}
	return b.String()[:n]
}
