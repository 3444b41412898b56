package objectstore

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"berth.dev/berth/internal/auth"
	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/store/sqlite"
)

const (
	testKeyID   = "AKIAOBJECTSTORETEST1"
	testSecret  = "objectstore-test-secret-key-0123456789"
	testRegion  = "us-east-1"
	testAccount = "000000000000"
)

// testWriter sends log lines to the test log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// newTestStore opens a real SQLite store and an object store in a fresh directory.
func newTestStore(t testing.TB, opts Options) (*Store, string) {
	t.Helper()
	dir := t.TempDir()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "berth.db"), testLogger(t))
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close sqlite: %v", err)
		}
	})
	blobDir := filepath.Join(dir, "objects")
	s, err := New(db, blobDir, testLogger(t), opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s, blobDir
}

// keys is the auth.KeyLookup of the tests: one access key.
type keys struct{}

func (keys) LookupAccessKey(_ context.Context, id string) (string, string, error) {
	if id != testKeyID {
		return "", "", errdefs.ErrNotFound
	}
	return testSecret, testAccount, nil
}

// sigv4Auth adapts internal/auth's real SigV4 verifier (service s3) to Authenticator, as the
// server does. It decodes aws-chunked bodies and verifies their chunk and trailer signatures.
type sigv4Auth struct{ v *auth.SigV4 }

func (a sigv4Auth) Authenticate(r *http.Request) (*http.Request, error) {
	out, _, err := a.v.Authenticate(r)
	return out, err
}

func newSigV4Auth(t testing.TB) sigv4Auth {
	t.Helper()
	v, err := auth.NewSigV4(keys{}, auth.SigV4Options{Service: auth.ServiceS3, Region: testRegion})
	if err != nil {
		t.Fatalf("auth.NewSigV4: %v", err)
	}
	return sigv4Auth{v: v}
}

// mapAuthError is Options.MapAuthError for internal/auth's errors.
func mapAuthError(err error) (int, string, string) {
	if ae, ok := errors.AsType[*auth.Error](err); ok {
		return ae.Code.S3Status(), ae.Code.S3Code(), ae.Message
	}
	return http.StatusInternalServerError, "InternalError", "authentication failed"
}

// allowAuth accepts every request and hands it on unchanged, to reach the handler's own
// checks with requests the SDK would refuse to build. It decodes nothing: aws-chunked bodies
// stay encoded, which the handler refuses.
type allowAuth struct{}

func (allowAuth) Authenticate(r *http.Request) (*http.Request, error) { return r, nil }

// denyAuth refuses everything.
type denyAuth struct{}

func (denyAuth) Authenticate(*http.Request) (*http.Request, error) {
	return nil, errors.New("denied by test")
}

// signV4 signs req in place with the AWS SDK's SigV4 signer, as S3 clients sign: the payload
// hash is req's X-Amz-Content-Sha256 (UNSIGNED-PAYLOAD if unset), and the path is escaped
// once. The signature is good for newSigV4Auth.
func signV4(t testing.TB, req *http.Request) {
	t.Helper()
	hash := req.Header.Get("X-Amz-Content-Sha256")
	if hash == "" {
		hash = unsignedPayload
		req.Header.Set("X-Amz-Content-Sha256", hash)
	}
	creds := aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}
	if err := v4.NewSigner().SignHTTP(req.Context(), creds, req, hash, "s3", testRegion, time.Now(),
		func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }); err != nil {
		t.Fatalf("sign request: %v", err)
	}
}

// recorder remembers the headers of the PUT requests that reach the handler.
type recorder struct {
	mu   sync.Mutex
	puts []http.Header
}

func (rec *recorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			rec.mu.Lock()
			rec.puts = append(rec.puts, r.Header.Clone())
			rec.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	})
}

func (rec *recorder) last() http.Header {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.puts) == 0 {
		return nil
	}
	return rec.puts[len(rec.puts)-1]
}

// testServer is the handler on a loopback server, with a real SDK client for it.
type testServer struct {
	store   *Store
	blobDir string
	srv     *httptest.Server
	client  *s3.Client
	puts    *recorder
}

type serverOptions struct {
	tls   bool
	authn string // "sigv4" (default), "allow", "deny"
	opts  Options
}

func newTestServer(t testing.TB, so serverOptions) *testServer {
	t.Helper()
	so.opts.MapAuthError = mapAuthError
	s, blobDir := newTestStore(t, so.opts)
	var authn Authenticator
	switch so.authn {
	case "", "sigv4":
		authn = newSigV4Auth(t)
	case "allow":
		authn = allowAuth{}
	case "deny":
		authn = denyAuth{}
	default:
		t.Fatalf("unknown authenticator %q", so.authn)
	}
	rec := &recorder{}
	h := rec.wrap(s.Handler(authn))
	var srv *httptest.Server
	if so.tls {
		srv = httptest.NewTLSServer(h)
	} else {
		srv = httptest.NewServer(h)
	}
	t.Cleanup(srv.Close)
	return &testServer{
		store:   s,
		blobDir: blobDir,
		srv:     srv,
		client:  newS3Client(srv.URL+s.opts.PathPrefix, srv.Client(), testKeyID, testSecret),
		puts:    rec,
	}
}

// newS3Client is the real AWS SDK S3 client, path-style, without retries. The checksum
// settings are what config.LoadDefaultConfig gives every SDK user (s3.New alone leaves them
// unset, which sends no checksums); optFns may change them.
func newS3Client(endpoint string, hc *http.Client, keyID, secret string, optFns ...func(*s3.Options)) *s3.Client {
	return s3.New(s3.Options{
		Region:                     testRegion,
		BaseEndpoint:               aws.String(endpoint),
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider(keyID, secret, ""),
		HTTPClient:                 hc,
		RetryMaxAttempts:           1,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
	}, optFns...)
}

// randomBytes returns n deterministic pseudo-random bytes.
func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// onlyReader hides every method but Read, so the SDK cannot seek or learn the length.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// filesUnder lists the regular files under dir, relative to it.
func filesUnder(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("walk %s: %v", dir, err)
	}
	return out
}
