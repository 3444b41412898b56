package image

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/sandbox/rootfs"
)

// maxSymlinkTarget bounds the length of a symlink target stored in a zip.
const maxSymlinkTarget = 4096

// zipEntry is one checked entry of a code zip.
type zipEntry struct {
	file   *zip.File
	name   string // clean relative path
	kind   fs.FileMode
	target string // symlinks only
}

func (p *Preparer) prepareCode(ctx context.Context, cc *catalog.CodeConfiguration) (catalog.PreparedArtifact, error) {
	if cc.Code == nil || cc.Code.S3 == nil || cc.Code.S3.Bucket == "" || cc.Code.S3.Prefix == "" {
		return catalog.PreparedArtifact{}, fail(errdefs.ErrInvalidArgument, nil, "codeConfiguration.code.s3 must name a bucket and an object key")
	}
	if p.objects == nil {
		return catalog.PreparedArtifact{}, fail(errdefs.ErrUnavailable, nil, "code zips cannot be read: no object store is configured")
	}
	loc := cc.Code.S3
	versionID := ""
	if loc.VersionID != nil {
		versionID = *loc.VersionID
	}
	uri := "s3://" + loc.Bucket + "/" + loc.Prefix
	if versionID != "" {
		uri += " (version " + versionID + ")"
	}
	entry, err := entryPointFile(cc.EntryPoint)
	if err != nil {
		return catalog.PreparedArtifact{}, err
	}

	zipPath, sum, size, err := p.fetchZip(ctx, loc.Bucket, loc.Prefix, versionID, uri)
	if err != nil {
		return catalog.PreparedArtifact{}, err
	}
	defer func() { _ = os.Remove(zipPath) }()
	f, err := os.Open(zipPath)
	if err != nil {
		return catalog.PreparedArtifact{}, fmt.Errorf("open downloaded zip: %w", err)
	}
	defer func() { _ = f.Close() }()
	zr, err := zip.NewReader(f, size)
	if err != nil {
		return catalog.PreparedArtifact{}, fail(errdefs.ErrInvalidArgument, err, "code object %s is not a valid zip archive", uri)
	}
	entries, err := p.checkZip(zr, entry, uri)
	if err != nil {
		return catalog.PreparedArtifact{}, err
	}

	tree := "code/" + sum
	defer p.hold(tree)()
	final := filepath.Join(p.dir, "code", sum)
	out := catalog.PreparedArtifact{Kind: catalog.ArtifactCode, Digest: "sha256:" + sum, Path: final, Size: size}
	ok, err := reuse(final)
	if err != nil {
		return catalog.PreparedArtifact{}, err
	}
	if ok {
		return out, nil
	}
	tmp, err := os.MkdirTemp(p.tmpDir(), "code-")
	if err != nil {
		return catalog.PreparedArtifact{}, fmt.Errorf("create temporary directory: %w", err)
	}
	defer func() { _ = removeTree(tmp) }()
	if err := p.extractZip(ctx, entries, tmp, uri); err != nil {
		return catalog.PreparedArtifact{}, err
	}
	if err := ownTopForSandbox(tmp); err != nil {
		return catalog.PreparedArtifact{}, err
	}
	if err := placeTree(tmp, final); err != nil {
		return catalog.PreparedArtifact{}, err
	}
	p.logger.InfoContext(ctx, "prepared code zip", "object", uri, "digest", out.Digest, "bytes", size)
	return out, nil
}

// ownTopForSandbox gives the top directory of a code tree to the sandbox user, so an agent
// may create files next to its code, as AgentCore's agents may in their working
// directory. The shared tree is never written: drivers put it under a per-session layer —
// linuxns an overlay whose upper layer the sandbox user owns anyway, gVisor its memory
// overlay, which takes the owner from this directory. The files inside stay root's, and
// the data directory above is root's alone (mode 0700), so nothing on the host that runs
// as that user can reach the tree. Without root (tests), the owner stays as it is.
func ownTopForSandbox(dir string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	if err := os.Lchown(dir, rootfs.SandboxUID, rootfs.SandboxGID); err != nil {
		return fmt.Errorf("give the code tree to the sandbox user: %w", err)
	}
	return nil
}

// entryPointFile returns the file the entry point runs: its last element.
func entryPointFile(ep []string) (string, error) {
	if len(ep) == 0 || ep[len(ep)-1] == "" {
		return "", fail(errdefs.ErrInvalidArgument, nil, "codeConfiguration.entryPoint is empty: it must name the file to run")
	}
	name, err := cleanEntryName(ep[len(ep)-1])
	if err != nil || name == "." {
		return "", fail(errdefs.ErrInvalidArgument, err, "entry point %q is not a relative path inside the code zip", ep[len(ep)-1])
	}
	return name, nil
}

// fetchZip copies the object to a temporary file while hashing it, enforcing the compressed
// size limit. It returns the file, the sha256 hex and the size.
func (p *Preparer) fetchZip(ctx context.Context, bucket, key, versionID, uri string) (string, string, int64, error) {
	rc, info, err := p.objects.OpenObject(ctx, bucket, key, versionID)
	if errors.Is(err, errdefs.ErrNotFound) {
		return "", "", 0, fail(errdefs.ErrNotFound, err, "code object %s not found", uri)
	}
	if err != nil {
		return "", "", 0, fail(errdefs.ErrUnavailable, err, "code object %s could not be read", uri)
	}
	defer func() { _ = rc.Close() }()
	limit := p.opts.MaxZipBytes
	if info.Size > limit {
		return "", "", 0, tooLargeZip(uri, info.Size, limit)
	}
	f, err := os.CreateTemp(p.tmpDir(), "zip-")
	if err != nil {
		return "", "", 0, fmt.Errorf("create temporary zip: %w", err)
	}
	keep := false
	defer func() {
		if !keep {
			_ = os.Remove(f.Name())
		}
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(ctxReader{ctx, rc}, limit+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if ctx.Err() != nil {
			return "", "", 0, ctx.Err()
		}
		return "", "", 0, fail(errdefs.ErrUnavailable, err, "code object %s could not be read", uri)
	}
	if n > limit {
		return "", "", 0, tooLargeZip(uri, 0, limit)
	}
	keep = true
	return f.Name(), hex.EncodeToString(h.Sum(nil)), n, nil
}

func tooLargeZip(uri string, size, limit int64) error {
	if size <= 0 { // size unknown: the copy ran past the limit
		return fail(errdefs.ErrInvalidArgument, nil, "code zip %s is larger than the limit of %s compressed", uri, humanBytes(limit))
	}
	return fail(errdefs.ErrInvalidArgument, nil, "code zip %s is %s compressed; the limit is %s", uri, humanBytes(size), humanBytes(limit))
}

// checkZip validates every entry header: count, paths, types, declared sizes, symlink
// targets, and that the entry point is a regular file.
func (p *Preparer) checkZip(zr *zip.Reader, entryPoint, uri string) ([]zipEntry, error) {
	if len(zr.File) > p.opts.MaxZipEntries {
		return nil, fail(errdefs.ErrInvalidArgument, nil, "code zip %s has %d entries; the limit is %d", uri, len(zr.File), p.opts.MaxZipEntries)
	}
	var declared uint64
	seen := map[string]bool{}
	entries := make([]zipEntry, 0, len(zr.File))
	foundEntry := false
	for _, f := range zr.File {
		name, err := cleanEntryName(f.Name)
		if err != nil {
			return nil, fail(errdefs.ErrInvalidArgument, nil, "code zip %s: %v", uri, err)
		}
		if name == "." {
			continue
		}
		mode := f.Mode()
		e := zipEntry{file: f, name: name, kind: mode.Type()}
		switch {
		case mode.IsDir():
			if seen[name] {
				continue
			}
		case mode.IsRegular():
			declared += f.UncompressedSize64
			if name == entryPoint {
				foundEntry = true
			}
		case mode&fs.ModeSymlink != 0:
			target, err := readSymlinkTarget(f)
			if err != nil {
				return nil, fail(errdefs.ErrInvalidArgument, err, "code object %s is not a valid zip archive", uri)
			}
			if path.IsAbs(target) || !filepath.IsLocal(path.Join(path.Dir(name), target)) {
				return nil, fail(errdefs.ErrInvalidArgument, nil, "code zip %s: symlink %q points outside the code directory (%q)", uri, name, target)
			}
			e.target = target
		default:
			return nil, fail(errdefs.ErrInvalidArgument, nil, "code zip %s: entry %q is not a file, directory or symlink", uri, name)
		}
		if seen[name] {
			return nil, fail(errdefs.ErrInvalidArgument, nil, "code zip %s: entry %q appears twice", uri, name)
		}
		seen[name] = true
		entries = append(entries, e)
	}
	if declared > uint64(p.opts.MaxUnzippedBytes) {
		return nil, tooLargeUnzipped(uri, p.opts.MaxUnzippedBytes)
	}
	if !foundEntry {
		return nil, fail(errdefs.ErrInvalidArgument, nil, "entry point %s is not a file in code zip %s", entryPoint, uri)
	}
	return entries, nil
}

func tooLargeUnzipped(uri string, limit int64) error {
	return fail(errdefs.ErrInvalidArgument, nil, "code zip %s extracts to more than the limit of %s", uri, humanBytes(limit))
}

func readSymlinkTarget(f *zip.File) (string, error) {
	rc, err := f.Open()
	if err != nil {
		return "", fmt.Errorf("read symlink %s: %w", f.Name, err)
	}
	defer func() { _ = rc.Close() }()
	b, err := io.ReadAll(io.LimitReader(rc, maxSymlinkTarget+1))
	if err != nil {
		return "", fmt.Errorf("read symlink %s: %w", f.Name, err)
	}
	if len(b) == 0 || len(b) > maxSymlinkTarget || strings.ContainsRune(string(b), 0) {
		return "", fmt.Errorf("symlink %s has an invalid target", f.Name)
	}
	return string(b), nil
}

// extractZip writes the checked entries into dst through an os.Root, counting the bytes
// actually written against the uncompressed limit (headers can lie). Symlinks come last, so
// no file is written through one, and each must then resolve inside dst.
func (p *Preparer) extractZip(ctx context.Context, entries []zipEntry, dst, uri string) error {
	root, err := os.OpenRoot(dst)
	if err != nil {
		return fmt.Errorf("open code directory: %w", err)
	}
	defer func() { _ = root.Close() }()
	budget := p.opts.MaxUnzippedBytes
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		switch {
		case e.kind.IsDir():
			if err := root.MkdirAll(e.name, 0o755); err != nil {
				return fail(errdefs.ErrInvalidArgument, err, "code zip %s could not be extracted", uri)
			}
		case e.kind.IsRegular():
			n, err := extractZipFile(root, e, budget)
			if errors.Is(err, errBudget) {
				return tooLargeUnzipped(uri, p.opts.MaxUnzippedBytes)
			}
			if errors.Is(err, zip.ErrChecksum) || errors.Is(err, zip.ErrFormat) || errors.Is(err, zip.ErrAlgorithm) {
				return fail(errdefs.ErrInvalidArgument, err, "code object %s is not a valid zip archive", uri)
			}
			if err != nil {
				return fail(errdefs.ErrInvalidArgument, err, "code zip %s could not be extracted", uri)
			}
			budget -= n
		}
	}
	for _, e := range entries {
		if e.kind&fs.ModeSymlink == 0 {
			continue
		}
		if err := root.MkdirAll(path.Dir(e.name), 0o755); err != nil {
			return fail(errdefs.ErrInvalidArgument, err, "code zip %s could not be extracted", uri)
		}
		if err := root.Symlink(e.target, e.name); err != nil {
			return fail(errdefs.ErrInvalidArgument, err, "code zip %s could not be extracted", uri)
		}
	}
	// Resolve every symlink through the root: a chain of individually harmless links can
	// still lead out, and os.Root refuses to follow it. Dangling links are allowed.
	for _, e := range entries {
		if e.kind&fs.ModeSymlink == 0 {
			continue
		}
		if _, err := root.Stat(e.name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fail(errdefs.ErrInvalidArgument, err, "code zip %s: symlink %q points outside the code directory", uri, e.name)
		}
	}
	return nil
}

var errBudget = errors.New("uncompressed size limit exceeded")

// extractZipFile writes one regular file, reading at most budget bytes (errBudget beyond).
func extractZipFile(root *os.Root, e zipEntry, budget int64) (int64, error) {
	if err := root.MkdirAll(path.Dir(e.name), 0o755); err != nil {
		return 0, err
	}
	rc, err := e.file.Open()
	if err != nil {
		return 0, err
	}
	defer func() { _ = rc.Close() }()
	mode := fs.FileMode(0o644)
	if e.file.Mode()&0o111 != 0 {
		mode = 0o755
	}
	lr := &io.LimitedReader{R: rc, N: budget + 1}
	if err := writeFile(root, e.name, lr, mode); err != nil {
		if lr.N <= 0 {
			return 0, errBudget
		}
		return 0, err
	}
	n := budget + 1 - lr.N
	if n > budget {
		return n, errBudget
	}
	return n, nil
}

// ctxReader stops a copy when the context is done.
type ctxReader struct {
	ctx context.Context // scoped to one copy, never kept
	r   io.Reader
}

func (c ctxReader) Read(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(b)
}

// humanBytes renders a size in MB (2^20 bytes), or in bytes when small.
func humanBytes(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%d bytes", n)
	}
	return fmt.Sprintf("%.0f MB", float64(n)/(1<<20))
}
