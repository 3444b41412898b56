package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
)

// hashCheckBody passes an S3 body through unchanged and, at EOF, compares its SHA-256 with
// the X-Amz-Content-Sha256 the client signed. On a mismatch the final Read returns a
// *Error with CodeContentSHA256Mismatch instead of io.EOF, so a consumer that commits only
// after a clean EOF never stores bytes the client did not sign.
type hashCheckBody struct {
	r    io.ReadCloser
	h    hash.Hash
	want string
	err  error
}

func newHashCheckBody(r io.ReadCloser, want string) *hashCheckBody {
	return &hashCheckBody{r: r, h: sha256.New(), want: want}
}

func (b *hashCheckBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.r.Read(p)
	b.h.Write(p[:n])
	if errors.Is(err, io.EOF) {
		if hex.EncodeToString(b.h.Sum(nil)) != b.want {
			err = newError(CodeContentSHA256Mismatch,
				"The provided 'x-amz-content-sha256' header does not match what was computed.")
		}
		b.err = err
	}
	return n, err
}

func (b *hashCheckBody) Close() error { return b.r.Close() }
