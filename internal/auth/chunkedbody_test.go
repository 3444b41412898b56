package auth

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"berth.dev/berth/internal/errdefs"
)

// The worked examples of AWS's "Signature Calculations for the Authorization Header:
// Transferring Payload in Multiple Chunks" pages (sigv4-streaming.html and
// sigv4-streaming-trailers.html): 66,560 bytes of 'a' as a 64 KiB and a 1 KiB chunk, with
// the documentation's secret (testSecret) on 20130524 in us-east-1. Each gives the seed
// signature, the three chunk signatures and, for the trailer variant, a CRC32C trailer and
// its signature.
type docExample struct {
	seed       string
	chunkSigs  [3]string
	trailers   string // the trailer lines, each ending in CRLF
	trailerSig string
}

var (
	docSigned = docExample{
		seed: "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
		chunkSigs: [3]string{
			"ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
			"0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
			"b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
		},
	}
	docSignedTrailer = docExample{
		seed: "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e",
		chunkSigs: [3]string{
			"b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
			"1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
			"2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
		},
		trailers:   "x-amz-checksum-crc32c:sOO8/Q==\r\n",
		trailerSig: "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435",
	}
)

const docDecodedLength = 66560

func (e docExample) body() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "10000;chunk-signature=%s\r\n%s\r\n", e.chunkSigs[0], strings.Repeat("a", 65536))
	fmt.Fprintf(&b, "400;chunk-signature=%s\r\n%s\r\n", e.chunkSigs[1], strings.Repeat("a", 1024))
	fmt.Fprintf(&b, "0;chunk-signature=%s\r\n", e.chunkSigs[2])
	b.WriteString(e.trailers)
	if e.trailerSig != "" {
		fmt.Fprintf(&b, "x-amz-trailer-signature:%s\r\n", e.trailerSig)
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

func (e docExample) signer() *chunkSigner {
	cred := credential{Date: "20130524", Region: "us-east-1", Service: ServiceS3}
	return &chunkSigner{key: signingKey(testSecret, cred), amzDate: "20130524T000000Z", scope: cred.scope(), prev: e.seed}
}

func TestChunkedBody_Read_AWSExamples(t *testing.T) {
	tests := []struct {
		name     string
		ex       docExample
		trailer  bool
		tamper   func([]byte) []byte
		wantCode Code  // an *Error when reading
		wantKind error // or an error kind
	}{
		{name: "signed", ex: docSigned},
		{name: "signed with trailer", ex: docSignedTrailer, trailer: true},
		{
			name: "a data byte changed", ex: docSigned, wantCode: CodeInvalidSignature,
			tamper: func(b []byte) []byte { b[200] = 'b'; return b },
		},
		{
			name: "a chunk signature changed", ex: docSigned, wantCode: CodeInvalidSignature,
			tamper: func(b []byte) []byte {
				return bytes.Replace(b, []byte("0055627c"), []byte("1055627c"), 1)
			},
		},
		{
			name: "the final chunk dropped", ex: docSigned, wantKind: io.ErrUnexpectedEOF,
			tamper: func(b []byte) []byte { return b[:bytes.LastIndex(b, []byte("0;chunk"))] },
		},
		{
			name: "the trailer value changed", ex: docSignedTrailer, trailer: true, wantCode: CodeInvalidSignature,
			tamper: func(b []byte) []byte { return bytes.Replace(b, []byte("sOO8/Q=="), []byte("AAAAAA=="), 1) },
		},
		{
			name: "the trailer signature removed", ex: docSignedTrailer, trailer: true, wantCode: CodeIncompleteSignature,
			tamper: func(b []byte) []byte {
				i := bytes.Index(b, []byte("x-amz-trailer-signature"))
				return append(b[:i:i], "\r\n"...)
			},
		},
		{
			name: "a trailer added to a body signed without trailers", ex: docSigned, wantKind: errdefs.ErrInvalidArgument,
			tamper: func(b []byte) []byte {
				return append(b[:len(b)-2:len(b)-2], "x-amz-checksum-crc32c:sOO8/Q==\r\n\r\n"...)
			},
		},
		{
			name: "chunks reordered", ex: docSigned, wantCode: CodeInvalidSignature,
			tamper: func(b []byte) []byte {
				first := b[:bytes.Index(b, []byte("400;"))]
				rest := b[len(first):]
				second := rest[:bytes.Index(rest, []byte("\r\n0;chunk"))+2]
				return append(append(append([]byte{}, second...), first...), rest[len(second):]...)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := tt.ex.body()
			if tt.tamper != nil {
				body = tt.tamper(body)
			}
			trailers := make(http.Header)
			cb := newChunkedBody(io.NopCloser(bytes.NewReader(body)), tt.ex.signer(), tt.trailer, docDecodedLength, trailers)
			got, err := io.ReadAll(cb)
			switch {
			case tt.wantCode != "":
				_ = wantCode(t, err, tt.wantCode)
				return
			case tt.wantKind != nil:
				if !errors.Is(err, tt.wantKind) {
					t.Fatalf("ReadAll error = %v, want %v", err, tt.wantKind)
				}
				return
			case err != nil:
				t.Fatalf("ReadAll: %v", err)
			}
			if string(got) != strings.Repeat("a", docDecodedLength) {
				t.Fatalf("decoded %d bytes, want %d 'a's", len(got), docDecodedLength)
			}
			if !tt.trailer {
				if len(trailers) != 0 {
					t.Errorf("trailers = %v, want none", trailers)
				}
				return
			}
			if diff := cmp.Diff(http.Header{"X-Amz-Checksum-Crc32c": {"sOO8/Q=="}}, trailers); diff != "" {
				t.Errorf("trailers (-want +got):\n%s", diff)
			}
			// The documented CRC32C is that of the decoded bytes.
			sum := crc32.Checksum(got, crc32.MakeTable(crc32.Castagnoli))
			if want := uint32(0xb0e3bcfd); sum != want { // base64 "sOO8/Q=="
				t.Errorf("CRC32C of the decoded bytes = %08x, want %08x", sum, want)
			}
		})
	}
}

// TestChunkedBody_Read_Unsigned decodes STREAMING-UNSIGNED-PAYLOAD-TRAILER framing, well
// formed and malformed, reading 3 bytes at a time to cross every boundary.
func TestChunkedBody_Read_Unsigned(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		want     string
		trailers http.Header
		wantKind error // for a malformed body; every one also wraps errdefs.ErrInvalidArgument
	}{
		{name: "sdk single chunk with trailer", body: "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n",
			want: "hello", trailers: http.Header{"X-Amz-Checksum-Crc32": {"NhCmhg=="}}},
		{name: "several chunks", body: "3\r\nabc\r\n2\r\nde\r\nA\r\n0123456789\r\n0\r\n\r\n", want: "abcde0123456789"},
		{name: "upper-case hex and extensions ignored", body: "B;foo=bar\r\nhello world\r\n0\r\n\r\n", want: "hello world"},
		{name: "empty body", body: "0\r\n\r\n", want: ""},
		{name: "data longer than size", body: "3\r\nabcd\r\n0\r\n\r\n", wantKind: errdefs.ErrInvalidArgument},
		{name: "data shorter than size", body: "5\r\nabc\r\n0\r\n\r\n", wantKind: errdefs.ErrInvalidArgument},
		{name: "truncated data", body: "5\r\nab", wantKind: io.ErrUnexpectedEOF},
		{name: "missing final chunk", body: "3\r\nabc\r\n", wantKind: io.ErrUnexpectedEOF},
		{name: "missing final CRLF", body: "3\r\nabc\r\n0\r\n", wantKind: io.ErrUnexpectedEOF},
		{name: "data after the final chunk", body: "0\r\n\r\nmore", wantKind: errdefs.ErrInvalidArgument},
		{name: "bare LF", body: "3\nabc\r\n0\r\n\r\n", wantKind: errdefs.ErrInvalidArgument},
		{name: "negative size", body: "-3\r\nabc\r\n0\r\n\r\n", wantKind: errdefs.ErrInvalidArgument},
		{name: "signed size", body: "+3\r\nabc\r\n0\r\n\r\n", wantKind: errdefs.ErrInvalidArgument},
		{name: "huge size", body: "fffffffffffffffff\r\n", wantKind: errdefs.ErrInvalidArgument},
		{name: "overflowing size", body: "ffffffffffffffff\r\n", wantKind: errdefs.ErrInvalidArgument},
		{name: "empty size", body: "\r\nabc", wantKind: errdefs.ErrInvalidArgument},
		{name: "trailer without colon", body: "0\r\nnocolon\r\n\r\n", wantKind: errdefs.ErrInvalidArgument},
		{name: "trailer signature in an unsigned body", body: "0\r\nx-amz-trailer-signature:" + strings.Repeat("a", 64) + "\r\n\r\n",
			wantKind: errdefs.ErrInvalidArgument},
		{name: "too long line", body: strings.Repeat("1", 5000) + "\r\n", wantKind: errdefs.ErrInvalidArgument},
		{name: "trailers over 16 KiB", body: "0\r\n" + strings.Repeat("x-a:"+strings.Repeat("b", 1000)+"\r\n", 17) + "\r\n",
			wantKind: errdefs.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			trailers := make(http.Header)
			cb := newChunkedBody(io.NopCloser(strings.NewReader(tt.body)), nil, true, -1, trailers)
			var got bytes.Buffer
			buf := make([]byte, 3)
			var err error
			for err == nil {
				var n int
				n, err = cb.Read(buf)
				got.Write(buf[:n])
			}
			if tt.wantKind != nil {
				if !errors.Is(err, tt.wantKind) || !errors.Is(err, errdefs.ErrInvalidArgument) {
					t.Fatalf("error = %v, want %v and ErrInvalidArgument", err, tt.wantKind)
				}
				if _, again := cb.Read(buf); !errors.Is(again, err) {
					t.Errorf("the error is not sticky: %v then %v", err, again)
				}
				return
			}
			if !errors.Is(err, io.EOF) {
				t.Fatalf("error = %v, want io.EOF", err)
			}
			if got.String() != tt.want {
				t.Errorf("decoded %q, want %q", got.String(), tt.want)
			}
			if tt.trailers == nil {
				tt.trailers = http.Header{}
			}
			if diff := cmp.Diff(tt.trailers, trailers); diff != "" {
				t.Errorf("trailers (-want +got):\n%s", diff)
			}
		})
	}
}
