package image

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"berth.dev/berth/internal/errdefs"
)

// TestPreparer_extractZip_CountsActualBytes checks the limit that holds while extracting,
// independently of the header check that normally rejects such a zip first.
func TestPreparer_extractZip_CountsActualBytes(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range []string{"main.py", "big.bin"} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, strings.Repeat("z", 6000)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		limit   int64
		wantErr bool
	}{
		{"within the limit", 12000, false},
		{"over the limit", 10000, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Preparer{opts: Options{MaxUnzippedBytes: tt.limit, MaxZipEntries: 10}.withDefaults(),
				logger: slog.New(slog.DiscardHandler)}
			entries := make([]zipEntry, 0, len(zr.File))
			for _, f := range zr.File {
				entries = append(entries, zipEntry{file: f, name: f.Name, kind: f.Mode().Type()})
			}
			err := p.extractZip(t.Context(), entries, t.TempDir(), "s3://b/k")
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("extractZip: %v", err)
				}
				return
			}
			if !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(FailureReason(err), "extracts to more than the limit") {
				t.Fatalf("extractZip = %v, want the uncompressed limit failure", err)
			}
		})
	}
}

func TestFailureReason(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"prepare error", fail(errdefs.ErrNotFound, errors.New("cause"), "code object s3://b/k not found"), "code object s3://b/k not found"},
		{"wrapped prepare error", errors.Join(errors.New("outer"), fail(errdefs.ErrInvalidArgument, nil, "bad zip")), "bad zip"},
		{"other", errors.New("disk full"), "internal error while preparing the artifact: disk full"},
		{"long", errors.New(strings.Repeat("é", 600)), "internal error while preparing the artifact: " + strings.Repeat("é", 477) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FailureReason(tt.err); got != tt.want {
				t.Errorf("FailureReason = %q, want %q", got, tt.want)
			}
		})
	}
}
