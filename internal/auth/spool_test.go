package auth

import (
	"bytes"
	"io"
	"os"
	"testing"
)

func TestSpoolBody(t *testing.T) {
	const threshold = 1024
	tests := []struct {
		name     string
		body     io.Reader
		want     []byte
		wantFile bool
	}{
		{"nil body", nil, nil, false},
		{"empty", bytes.NewReader(nil), nil, false},
		{"small", bytes.NewReader([]byte("hello")), []byte("hello"), false},
		{"at threshold", bytes.NewReader(bytes.Repeat([]byte("a"), threshold)), bytes.Repeat([]byte("a"), threshold), false},
		{"over threshold", bytes.NewReader(bytes.Repeat([]byte("b"), threshold+1)), bytes.Repeat([]byte("b"), threshold+1), true},
		{"large, in small reads", io.LimitReader(oneByteReader{'c'}, 10*threshold), bytes.Repeat([]byte("c"), 10*threshold), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			rc, n, sum, err := spoolBody(tt.body, threshold, dir)
			if err != nil {
				t.Fatal(err)
			}
			if n != int64(len(tt.want)) || sum != sha256Hex(tt.want) {
				t.Errorf("size %d hash %s, want %d %s", n, sum, len(tt.want), sha256Hex(tt.want))
			}
			_, isFile := rc.(*fileBody)
			if isFile != tt.wantFile {
				t.Errorf("file-backed = %v, want %v", isFile, tt.wantFile)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("spool file visible in %s while open; it should be unlinked at once", dir)
			}
			if got := readAllClose(t, rc); !bytes.Equal(got, tt.want) {
				t.Errorf("replayed %d bytes, want %d", len(got), len(tt.want))
			}
			if err := rc.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
		})
	}
}

func TestSpoolBody_BadDir(t *testing.T) {
	_, _, _, err := spoolBody(bytes.NewReader(make([]byte, 2048)), 1024, "/nonexistent/spool/dir")
	if err == nil {
		t.Fatal("spooling into a missing directory succeeded")
	}
}

type oneByteReader struct{ c byte }

func (r oneByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = r.c
	return 1, nil
}
