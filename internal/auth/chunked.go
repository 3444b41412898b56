package auth

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"

	"berth.dev/berth/internal/errdefs"
)

// aws-chunked bodies (S3 streaming uploads):
//
//	signed:   <hex size>;chunk-signature=<sig>\r\n<data>\r\n … 0;chunk-signature=<sig>\r\n[trailers]\r\n
//	unsigned: <hex size>\r\n<data>\r\n … 0\r\n[trailers]\r\n
//
// where trailers are "name:value\r\n" lines, and for the signed trailer form a final
// "x-amz-trailer-signature:<sig>\r\n". Each chunk signature chains from the previous one,
// starting at the request's seed signature:
//
//	AWS4-HMAC-SHA256-PAYLOAD\n<amz date>\n<scope>\n<previous sig>\n<sha256("")>\n<sha256(data)>
//
// and the trailer signature is
//
//	AWS4-HMAC-SHA256-TRAILER\n<amz date>\n<scope>\n<final chunk sig>\n<sha256("name:value\n"…)>

const (
	maxChunkSize      = 16 << 20 // signed chunks are buffered; SDKs sign 64-128 KiB chunks
	maxChunkLine      = 4 << 10
	maxTrailerBytes   = 16 << 10
	trailerSigHeader  = "x-amz-trailer-signature"
	chunkSigExtension = ";chunk-signature="
)

// chunkSigner carries what chunk signatures are checked against.
type chunkSigner struct {
	key     []byte
	amzDate string
	scope   string
	prev    string // the previous signature, initially the seed (request) signature
}

// chunkedBody decodes an aws-chunked body, verifying chunk and trailer signatures when signer
// is set. A signed chunk is buffered (up to maxChunkSize) and released only after its
// signature has been verified; unsigned chunks stream through. Trailers are stored into out
// (the returned request's Trailer) at EOF.
type chunkedBody struct {
	r       *bufio.Reader
	closer  io.Closer
	signer  *chunkSigner // nil for STREAMING-UNSIGNED-PAYLOAD-TRAILER
	trailer bool         // the mode announces trailers
	want    int64        // X-Amz-Decoded-Content-Length, or -1
	out     http.Header  // receives trailers

	buf       []byte
	off       int
	remaining int64 // unsigned mode: bytes of the current chunk not yet read
	decoded   int64
	chunks    int
	err       error
}

func newChunkedBody(body io.ReadCloser, signer *chunkSigner, trailer bool, want int64, out http.Header) *chunkedBody {
	return &chunkedBody{r: bufio.NewReaderSize(body, 64<<10), closer: body, signer: signer, trailer: trailer, want: want, out: out}
}

func (c *chunkedBody) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if c.off < len(c.buf) {
			n := copy(p, c.buf[c.off:])
			c.off += n
			return n, nil
		}
		if c.remaining > 0 {
			if n := c.readUnsigned(p); n > 0 {
				return n, nil
			}
			continue
		}
		if c.err != nil {
			return 0, c.err
		}
		c.err = c.nextChunk()
	}
}

// readUnsigned streams the data of an unsigned chunk straight through: there is no signature
// to wait for, and SDKs send a body of known length as one chunk of any size.
func (c *chunkedBody) readUnsigned(p []byte) int {
	if int64(len(p)) > c.remaining {
		p = p[:c.remaining]
	}
	n, err := c.r.Read(p)
	c.remaining -= int64(n)
	c.decoded += int64(n)
	switch {
	case c.remaining == 0:
		if cerr := c.expectCRLF(); cerr != nil {
			c.err = cerr
		}
	case err != nil:
		c.remaining = 0
		c.err = c.truncated(err)
	}
	return n
}

func (c *chunkedBody) Close() error { return c.closer.Close() }

func malformedChunked(format string, args ...any) error {
	return fmt.Errorf("decode aws-chunked body: %s: %w", fmt.Sprintf(format, args...), errdefs.ErrInvalidArgument)
}

// nextChunk reads one chunk into c.buf. It returns io.EOF after the final chunk and its
// trailers have been read and verified.
func (c *chunkedBody) nextChunk() error {
	c.buf, c.off = c.buf[:0], 0
	line, err := c.readLine(maxChunkLine)
	if err != nil {
		return err
	}
	sizeHex, sig, hasSig := strings.Cut(line, chunkSigExtension)
	if c.signer == nil {
		sizeHex, _, _ = strings.Cut(line, ";") // unsigned chunks may carry other extensions
	} else if !hasSig || !isLowerHex(sig, 64) {
		return newError(CodeIncompleteSignature, fmt.Sprintf("Chunk %d has no valid chunk-signature.", c.chunks+1))
	}
	size, err := strconv.ParseUint(sizeHex, 16, 64)
	if err != nil || sizeHex == "" || len(sizeHex) > 16 {
		return malformedChunked("chunk %d: invalid size %q", c.chunks+1, truncate(sizeHex, 20))
	}
	c.chunks++
	if c.signer == nil && size > 0 {
		c.remaining = int64(size)
		if c.remaining < 0 {
			return malformedChunked("chunk %d: size %d is too large", c.chunks, size)
		}
		return nil
	}
	if size > maxChunkSize {
		return malformedChunked("chunk %d: size %d exceeds the %d-byte limit for signed chunks", c.chunks, size, maxChunkSize)
	}
	if cap(c.buf) < int(size) {
		c.buf = make([]byte, size)
	}
	c.buf = c.buf[:size]
	if _, err := io.ReadFull(c.r, c.buf); err != nil {
		return c.truncated(err)
	}
	if size > 0 {
		if err := c.expectCRLF(); err != nil {
			return err
		}
	}
	if c.signer != nil {
		sum := sha256.Sum256(c.buf)
		sts := streamingChunkAlgorithm + "\n" + c.signer.amzDate + "\n" + c.signer.scope + "\n" + c.signer.prev + "\n" +
			emptySHA256 + "\n" + hex.EncodeToString(sum[:])
		if !signatureMatches(c.signer.key, sts, sig) {
			c.buf = c.buf[:0]
			return newError(CodeInvalidSignature, fmt.Sprintf(
				"The chunk signature of chunk %d does not match; the body was changed or signed with another key.", c.chunks))
		}
		c.signer.prev = sig
	}
	c.decoded += int64(size)
	if size > 0 {
		return nil
	}
	if err := c.readTrailers(); err != nil {
		return err
	}
	if c.want >= 0 && c.decoded != c.want {
		return malformedChunked("decoded %d bytes, but X-Amz-Decoded-Content-Length is %d", c.decoded, c.want)
	}
	if _, err := c.r.ReadByte(); err == nil {
		return malformedChunked("data after the final chunk")
	}
	return io.EOF
}

// readTrailers reads the lines after the final chunk up to the empty line, checks the trailer
// signature in the signed trailer mode, and records the trailers.
func (c *chunkedBody) readTrailers() error {
	var canon strings.Builder
	var trailerSig string
	got := make(http.Header)
	total := 0
	for {
		line, err := c.readLine(maxChunkLine)
		if err != nil {
			return err
		}
		if line == "" {
			break
		}
		if total += len(line); total > maxTrailerBytes {
			return malformedChunked("trailers exceed %d bytes", maxTrailerBytes)
		}
		if !c.trailer {
			return malformedChunked("unexpected data after the final chunk")
		}
		name, value, ok := strings.Cut(line, ":")
		name = strings.ToLower(strings.TrimSpace(name))
		value = strings.TrimSpace(value)
		if !ok || !validHeaderName(name) {
			return malformedChunked("malformed trailer line")
		}
		if name == trailerSigHeader {
			trailerSig = value
			continue
		}
		if trailerSig != "" {
			return malformedChunked("trailer after x-amz-trailer-signature")
		}
		canon.WriteString(name + ":" + value + "\n")
		got.Add(textproto.CanonicalMIMEHeaderKey(name), value)
	}
	if c.signer != nil && c.trailer {
		if !isLowerHex(trailerSig, 64) {
			return newError(CodeIncompleteSignature, "The signed trailer has no valid x-amz-trailer-signature.")
		}
		sum := sha256.Sum256([]byte(canon.String()))
		sts := streamingTrailerAlgo + "\n" + c.signer.amzDate + "\n" + c.signer.scope + "\n" + c.signer.prev + "\n" +
			hex.EncodeToString(sum[:])
		if !signatureMatches(c.signer.key, sts, trailerSig) {
			return newError(CodeInvalidSignature, "The trailer signature does not match; the trailers were changed or signed with another key.")
		}
	} else if trailerSig != "" {
		return malformedChunked("x-amz-trailer-signature in an unsigned stream")
	}
	for k, v := range got {
		c.out[k] = v
	}
	return nil
}

// readLine reads one CRLF-terminated line without its terminator.
func (c *chunkedBody) readLine(limit int) (string, error) {
	var b bytes.Buffer
	for {
		frag, err := c.r.ReadSlice('\n')
		b.Write(frag)
		if b.Len() > limit {
			return "", malformedChunked("line longer than %d bytes", limit)
		}
		if err == nil {
			break
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return "", c.truncated(err)
		}
	}
	line := b.Bytes()
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return "", malformedChunked("line not terminated by CRLF")
	}
	return string(line[:len(line)-2]), nil
}

func (c *chunkedBody) expectCRLF() error {
	var crlf [2]byte
	if _, err := io.ReadFull(c.r, crlf[:]); err != nil {
		return c.truncated(err)
	}
	if crlf != [2]byte{'\r', '\n'} {
		return malformedChunked("chunk %d: data not followed by CRLF", c.chunks)
	}
	return nil
}

// truncated classifies an error of the underlying body: its end (io.EOF, or
// io.ErrUnexpectedEOF from io.ReadFull inside a signed chunk) means a malformed body.
func (c *chunkedBody) truncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("decode aws-chunked body: body ended before the final chunk: %w (%w)", errdefs.ErrInvalidArgument, io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("read aws-chunked body: %w", err)
}
