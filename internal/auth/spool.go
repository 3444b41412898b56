package auth

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
)

// spoolBody reads body to EOF, hashing it, and keeps a copy to replay: in memory up to
// threshold bytes, beyond that in a temporary file in dir. The file is unlinked as soon as it
// is created (it lives on through the open descriptor), so nothing is left on disk even if
// the returned body is never closed; closing it releases the descriptor.
func spoolBody(body io.Reader, threshold int64, dir string) (replay io.ReadCloser, size int64, sum string, err error) {
	h := sha256.New()
	if body == nil || body == http.NoBody {
		return io.NopCloser(bytes.NewReader(nil)), 0, emptySHA256, nil
	}
	var buf bytes.Buffer
	n, err := io.CopyN(io.MultiWriter(&buf, h), body, threshold+1)
	if errors.Is(err, io.EOF) {
		return io.NopCloser(bytes.NewReader(buf.Bytes())), n, hex.EncodeToString(h.Sum(nil)), nil
	}
	if err != nil {
		return nil, 0, "", fmt.Errorf("read request body: %w", err)
	}

	f, err := os.CreateTemp(dir, "berth-sigv4-body-*")
	if err != nil {
		return nil, 0, "", fmt.Errorf("spool request body: %w", err)
	}
	fb := &fileBody{f: f}
	if rmErr := os.Remove(f.Name()); rmErr != nil { //nolint:gosec // G703: the name os.CreateTemp just chose
		fb.name = f.Name() // could not unlink an open file here; remove it on Close instead
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		_ = fb.Close()
		return nil, 0, "", fmt.Errorf("spool request body: %w", err)
	}
	rest, err := io.Copy(io.MultiWriter(f, h), body)
	if err != nil {
		_ = fb.Close()
		return nil, 0, "", fmt.Errorf("read request body: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		_ = fb.Close()
		return nil, 0, "", fmt.Errorf("spool request body: %w", err)
	}
	return fb, n + rest, hex.EncodeToString(h.Sum(nil)), nil
}

// fileBody replays a spooled body from its temporary file.
type fileBody struct {
	f    *os.File
	name string // set only when the file could not be unlinked at creation

	once sync.Once
	err  error
}

func (b *fileBody) Read(p []byte) (int, error) { return b.f.Read(p) }

// Close closes (and if needed removes) the spool file; later calls return the first result.
func (b *fileBody) Close() error {
	b.once.Do(func() {
		b.err = b.f.Close()
		if b.name != "" {
			if err := os.Remove(b.name); err != nil && b.err == nil {
				b.err = err
			}
		}
	})
	return b.err
}
