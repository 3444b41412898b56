package objectstore

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"strconv"
	"strings"
)

// The x-amz-content-sha256 values that select how a PutObject body is sent.
const (
	unsignedPayload          = "UNSIGNED-PAYLOAD"
	streamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
	streamingSigned          = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	streamingSignedTrailer   = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
)

// Limits of the aws-chunked framing (not of the data).
const (
	maxChunkLine   = 4096
	maxTrailers    = 16
	maxChunkDigits = 16
	emptySHA256Hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// StreamingCredentials let the handler verify the chunk signatures of a
// STREAMING-AWS4-HMAC-SHA256-PAYLOAD(-TRAILER) body. A SigV4 Authenticator that accepted a
// request's seed signature attaches them with WithStreamingCredentials; without them such a
// body is refused.
type StreamingCredentials struct {
	// SigningKey is the derived SigV4 key: HMAC chain of secret, date, region, "s3",
	// "aws4_request".
	SigningKey []byte
	// AmzDate is the request's X-Amz-Date ("20130524T000000Z").
	AmzDate string
	// Scope is the credential scope ("20130524/us-east-1/s3/aws4_request").
	Scope string
	// SeedSignature is the hex signature of the request headers.
	SeedSignature string
}

type streamingCredentialsKey struct{}

// WithStreamingCredentials returns ctx carrying c.
func WithStreamingCredentials(ctx context.Context, c StreamingCredentials) context.Context {
	return context.WithValue(ctx, streamingCredentialsKey{}, c)
}

func streamingCredentialsFrom(ctx context.Context) (StreamingCredentials, bool) {
	c, ok := ctx.Value(streamingCredentialsKey{}).(StreamingCredentials)
	return c, ok && len(c.SigningKey) > 0 && c.SeedSignature != ""
}

// chunkSigner checks the signature chain of a signed aws-chunked body: each chunk's
// signature covers its data and the previous signature, starting from the seed.
type chunkSigner struct {
	key     []byte
	amzDate string
	scope   string
	prev    string
}

func newChunkSigner(c StreamingCredentials) *chunkSigner {
	return &chunkSigner{key: c.SigningKey, amzDate: c.AmzDate, scope: c.Scope, prev: c.SeedSignature}
}

func (s *chunkSigner) sign(kind, last string) string {
	sts := kind + "\n" + s.amzDate + "\n" + s.scope + "\n" + s.prev + "\n" + last
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(sts))
	return hex.EncodeToString(m.Sum(nil))
}

func (s *chunkSigner) verifyChunk(sig string, dataSHA256 []byte) error {
	want := s.sign("AWS4-HMAC-SHA256-PAYLOAD", emptySHA256Hex+"\n"+hex.EncodeToString(dataSHA256))
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return errSignatureMismatch("The chunk signature we calculated does not match the signature you provided.")
	}
	s.prev = sig
	return nil
}

func (s *chunkSigner) verifyTrailer(sig string, canonical []byte) error {
	sum := sha256.Sum256(canonical)
	want := s.sign("AWS4-HMAC-SHA256-TRAILER", hex.EncodeToString(sum[:]))
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return errSignatureMismatch("The trailer signature we calculated does not match the signature you provided.")
	}
	return nil
}

// chunkedReader decodes an aws-chunked body as it is read, without buffering more than the
// framing:
//
//	<hex size>[;chunk-signature=<sig>]\r\n<data>\r\n … 0[;chunk-signature=<sig>]\r\n
//	[<trailer name>:<value>\r\n …]\r\n
//
// With a signer, every chunk's signature is checked when its data ends and the terminating
// chunk's before EOF; a chunk's bytes are handed out before its signature is checked, so the
// consumer must not commit anything until Read returns io.EOF. Trailers are available once
// Read has returned io.EOF.
type chunkedReader struct {
	br            *bufio.Reader
	signer        *chunkSigner // nil: unsigned chunks
	signedTrailer bool         // the trailers carry x-amz-trailer-signature

	remaining int64 // data bytes left in the current chunk
	inChunk   bool  // a chunk's data was read; its CRLF and signature are due
	chunkSig  string
	chunkHash hash.Hash
	trailers  map[string]string
	err       error // sticky; io.EOF once the body ended well
}

func newChunkedReader(r io.Reader, signer *chunkSigner, signedTrailer bool) *chunkedReader {
	c := &chunkedReader{br: bufio.NewReaderSize(r, 64<<10), signer: signer, signedTrailer: signedTrailer}
	if signer != nil {
		c.chunkHash = sha256.New()
	}
	return c
}

// trailer returns a trailer's value ("" if absent); valid after Read returned io.EOF.
func (c *chunkedReader) trailer(name string) string { return c.trailers[strings.ToLower(name)] }

func (c *chunkedReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	for c.remaining == 0 {
		if err := c.next(); err != nil {
			c.err = err
			return 0, err
		}
	}
	if len(p) == 0 {
		return 0, nil
	}
	if int64(len(p)) > c.remaining {
		p = p[:c.remaining]
	}
	n, err := c.br.Read(p)
	c.remaining -= int64(n)
	if c.chunkHash != nil {
		c.chunkHash.Write(p[:n])
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = errIncompleteBody()
		}
		c.err = err
		if n > 0 {
			return n, nil // the error is returned by the next call
		}
		return 0, err
	}
	return n, nil
}

// next ends the current chunk and reads the next chunk's header; at the terminating chunk
// it reads the trailers and returns io.EOF.
func (c *chunkedReader) next() error {
	if c.inChunk {
		line, err := c.readLine()
		if err != nil {
			return err
		}
		if line != "" {
			return errMalformedChunk("chunk data longer than its size")
		}
		if c.signer != nil {
			if err := c.signer.verifyChunk(c.chunkSig, c.chunkHash.Sum(nil)); err != nil {
				return err
			}
		}
		c.inChunk = false
	}
	line, err := c.readLine()
	if err != nil {
		return err
	}
	size, sig, err := parseChunkHeader(line, c.signer != nil)
	if err != nil {
		return err
	}
	if size > 0 {
		c.remaining, c.inChunk, c.chunkSig = size, true, sig
		if c.chunkHash != nil {
			c.chunkHash.Reset()
		}
		return nil
	}
	if c.signer != nil {
		empty := sha256.Sum256(nil)
		if err := c.signer.verifyChunk(sig, empty[:]); err != nil {
			return err
		}
	}
	if err := c.readTrailers(); err != nil {
		return err
	}
	return io.EOF
}

func (c *chunkedReader) readTrailers() error {
	c.trailers = map[string]string{}
	var canonical bytes.Buffer
	trailerSig := ""
	for i := 0; ; i++ {
		line, err := c.readLine()
		if err != nil {
			return err
		}
		if line == "" {
			break
		}
		if i >= maxTrailers {
			return errMalformedChunk("too many trailers")
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return errMalformedChunk("trailer without a colon")
		}
		name, value = strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(value)
		if name == "x-amz-trailer-signature" {
			trailerSig = value
			continue
		}
		c.trailers[name] = value
		canonical.WriteString(name + ":" + value + "\n")
	}
	if c.signer == nil {
		return nil
	}
	if !c.signedTrailer {
		if len(c.trailers) > 0 {
			return errMalformedChunk("trailers in a body signed without them")
		}
		return nil
	}
	if trailerSig == "" {
		return errSignatureMismatch("The trailer signature is missing.")
	}
	return c.signer.verifyTrailer(trailerSig, canonical.Bytes())
}

// readLine reads one CRLF-terminated framing line, without its CRLF.
func (c *chunkedReader) readLine() (string, error) {
	line, err := c.br.ReadSlice('\n')
	if len(line) > maxChunkLine || errors.Is(err, bufio.ErrBufferFull) {
		return "", errMalformedChunk("framing line too long")
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			return "", errIncompleteBody()
		}
		return "", err
	}
	s, ok := strings.CutSuffix(string(line), "\r\n")
	if !ok {
		return "", errMalformedChunk("framing line not ended by CRLF")
	}
	return s, nil
}

// parseChunkHeader parses "<hex size>[;chunk-signature=<64 hex>]". A signed body must sign
// every chunk; an unsigned body's chunk extensions are ignored.
func parseChunkHeader(line string, signed bool) (int64, string, error) {
	sizeText, ext, _ := strings.Cut(line, ";")
	if sizeText == "" || len(sizeText) > maxChunkDigits {
		return 0, "", errMalformedChunk("bad chunk size")
	}
	for i := 0; i < len(sizeText); i++ {
		c := sizeText[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') {
			return 0, "", errMalformedChunk("bad chunk size")
		}
	}
	size, err := strconv.ParseInt(sizeText, 16, 64)
	if err != nil {
		return 0, "", errMalformedChunk("bad chunk size")
	}
	if !signed {
		return size, "", nil
	}
	sig, ok := strings.CutPrefix(ext, "chunk-signature=")
	if !ok || len(sig) != 64 {
		return 0, "", errSignatureMismatch("The chunk signature is missing or malformed.")
	}
	return size, sig, nil
}

func errMalformedChunk(detail string) error {
	return errInvalidRequest("The aws-chunked body is malformed: %s.", detail)
}
