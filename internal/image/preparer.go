// Package image turns a version's artifact into a prepared tree on disk: a code zip is
// fetched from the object store, checked and extracted; an OCI image is resolved, pinned by
// digest and flattened into a root filesystem with its run configuration beside it.
//
// Prepared trees are content addressed (dir/code/<sha256 of the zip>,
// dir/rootfs/<image manifest digest>), so versions with the same input share one tree. Each
// tree is built in a temporary directory and renamed into place, so a tree that exists is
// complete, and concurrent preparations of the same input cannot corrupt each other: the
// loser of the rename uses the winner's tree.
//
// Failures are *Error values whose Reason is a human failureReason (FailureReason).
package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"berth.dev/berth/internal/artifact"
	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/errdefs"
)

// ObjectOpener reads code zips; artifact.ObjectSource implementations satisfy it. A missing
// bucket, key or version is an error wrapping errdefs.ErrNotFound.
type ObjectOpener interface {
	OpenObject(ctx context.Context, bucket, key, versionID string) (io.ReadCloser, artifact.ObjectInfo, error)
}

// LocalRegistry gives network-free access to Berth's own registry. reference is a tag or a
// digest; unknown references are errors wrapping errdefs.ErrNotFound.
type LocalRegistry interface {
	Resolve(ctx context.Context, repo, reference string) (v1.Descriptor, error)
	Image(ctx context.Context, repo, reference string) (v1.Image, error)
	Index(ctx context.Context, repo, reference string) (v1.ImageIndex, error)
}

// Default limits, as AgentCore documents them for code zips.
const (
	DefaultMaxZipBytes      = 250 << 20
	DefaultMaxUnzippedBytes = 750 << 20
	DefaultMaxZipEntries    = 100_000
	DefaultGCGrace          = time.Hour
)

// Options tune a Preparer. Zero values take the defaults.
type Options struct {
	MaxZipBytes      int64 // compressed size limit of a code zip
	MaxUnzippedBytes int64 // total bytes a code zip may extract to, counted while extracting
	MaxZipEntries    int   // entries a code zip may hold

	// LocalHosts are the registry hosts ("127.0.0.1:8787", "localhost:8787", the public
	// host) that name Berth's own registry; images there are read through LocalRegistry.
	LocalHosts []string
	// InsecureRegistries are hosts reached over plain HTTP.
	InsecureRegistries []string
	// Keychain authenticates to remote registries; default authn.DefaultKeychain.
	Keychain authn.Keychain
	// Transport carries remote registry traffic; default the go-containerregistry transport.
	Transport http.RoundTripper
	// Platform picks the image of an index; default linux/runtime.GOARCH.
	Platform *v1.Platform
	// GCGrace protects trees created or reused this recently from GC.
	GCGrace time.Duration
}

func (o Options) withDefaults() Options {
	if o.MaxZipBytes <= 0 {
		o.MaxZipBytes = DefaultMaxZipBytes
	}
	if o.MaxUnzippedBytes <= 0 {
		o.MaxUnzippedBytes = DefaultMaxUnzippedBytes
	}
	if o.MaxZipEntries <= 0 {
		o.MaxZipEntries = DefaultMaxZipEntries
	}
	if o.Keychain == nil {
		o.Keychain = authn.DefaultKeychain
	}
	if o.Platform == nil {
		o.Platform = &v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
	}
	if o.GCGrace <= 0 {
		o.GCGrace = DefaultGCGrace
	}
	return o
}

// Preparer prepares artifacts under one directory. It is safe for concurrent use.
type Preparer struct {
	dir     string
	objects ObjectOpener
	local   LocalRegistry
	opts    Options
	logger  *slog.Logger

	mu       sync.Mutex
	inflight map[string]int // tree names ("code/<hex>", "rootfs/<hex>") in use by Prepare
}

// New returns a Preparer keeping its trees under dir. objects may be nil when code zips are
// not used, local nil when there is no built-in registry. Temporary files left by an
// earlier process are removed, so only one Preparer may use dir.
func New(dir string, objects ObjectOpener, local LocalRegistry, opts Options, logger *slog.Logger) (*Preparer, error) {
	if logger == nil {
		return nil, fmt.Errorf("new preparer: logger is required: %w", errdefs.ErrInvalidArgument)
	}
	p := &Preparer{
		dir: dir, objects: objects, local: local, opts: opts.withDefaults(), logger: logger,
		inflight: map[string]int{},
	}
	if err := removeTree(p.tmpDir()); err != nil {
		return nil, fmt.Errorf("new preparer: clean temporary directory: %w", err)
	}
	for _, d := range []string{p.tmpDir(), filepath.Join(dir, "code"), filepath.Join(dir, "rootfs")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("new preparer: %w", err)
		}
	}
	return p, nil
}

func (p *Preparer) tmpDir() string { return filepath.Join(p.dir, "tmp") }

// Prepare fetches, checks and unpacks the artifact, returning where it now lives. Errors are
// *Error values (FailureReason gives the human message), except cancellation.
func (p *Preparer) Prepare(ctx context.Context, art catalog.Artifact) (catalog.PreparedArtifact, error) {
	switch {
	case art.CodeConfiguration != nil && art.ContainerConfiguration != nil:
		return catalog.PreparedArtifact{}, fail(errdefs.ErrInvalidArgument, nil,
			"the artifact sets both codeConfiguration and containerConfiguration")
	case art.CodeConfiguration != nil:
		return p.prepareCode(ctx, art.CodeConfiguration)
	case art.ContainerConfiguration != nil:
		return p.prepareImage(ctx, art.ContainerConfiguration)
	}
	return catalog.PreparedArtifact{}, fail(errdefs.ErrInvalidArgument, nil, "the artifact names neither code nor a container image")
}

// hold marks tree as in use until the returned function is called, so GC leaves it alone.
func (p *Preparer) hold(tree string) func() {
	p.mu.Lock()
	p.inflight[tree]++
	p.mu.Unlock()
	return func() {
		p.mu.Lock()
		if p.inflight[tree]--; p.inflight[tree] == 0 {
			delete(p.inflight, tree)
		}
		p.mu.Unlock()
	}
}

// reuse reports whether the tree at path exists, refreshing its time so GC keeps it.
func reuse(path string) (bool, error) {
	_, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("stat prepared tree %s: %w", path, err)
	}
	now := time.Now()
	if err := os.Chtimes(path, now, now); err != nil {
		return false, fmt.Errorf("touch prepared tree %s: %w", path, err)
	}
	return true, nil
}
