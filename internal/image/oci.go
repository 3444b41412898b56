package image

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"berth.dev/berth/internal/catalog"
	"berth.dev/berth/internal/errdefs"
)

// prepareImage resolves the image (Berth's own registry locally, any other over the
// network), pins it by digest and flattens it into dir/rootfs/<hex>, with its run
// configuration in dir/rootfs/<hex>.config.json. For an index, the image for the configured
// platform is chosen and its digest is the one recorded.
func (p *Preparer) prepareImage(ctx context.Context, cc *catalog.ContainerConfiguration) (catalog.PreparedArtifact, error) {
	uri := strings.TrimSpace(cc.ContainerURI)
	var opts []name.Option
	if p.isInsecure(uri) {
		opts = append(opts, name.Insecure)
	}
	ref, err := name.ParseReference(uri, opts...)
	if err != nil {
		return catalog.PreparedArtifact{}, fail(errdefs.ErrInvalidArgument, err, "container URI %q is not a valid image reference", uri)
	}
	var img v1.Image
	if p.isLocal(ref.Context().RegistryStr()) {
		img, err = p.localImage(ctx, ref)
	} else {
		img, err = p.remoteImage(ctx, ref)
	}
	if err != nil {
		return catalog.PreparedArtifact{}, err
	}
	digest, err := img.Digest()
	if err != nil {
		return catalog.PreparedArtifact{}, fail(errdefs.ErrUnavailable, err, "image %s could not be read", uri)
	}
	m, err := img.Manifest()
	if err != nil {
		return catalog.PreparedArtifact{}, fail(errdefs.ErrUnavailable, err, "image %s could not be read", uri)
	}
	size := m.Config.Size
	for _, l := range m.Layers {
		size += l.Size
	}
	tree := "rootfs/" + digest.Hex
	defer p.hold(tree)()
	final := filepath.Join(p.dir, "rootfs", digest.Hex)
	out := catalog.PreparedArtifact{
		Kind:   catalog.ArtifactImage,
		Digest: digest.String(),
		Ref:    ref.Context().Digest(digest.String()).String(),
		Path:   final,
		Size:   size,
	}
	ok, err := reuse(final)
	if err != nil {
		return catalog.PreparedArtifact{}, err
	}
	if !ok {
		if err := p.extractImage(ctx, img, final, uri); err != nil {
			return catalog.PreparedArtifact{}, err
		}
	}
	// Written after the tree, and rewritten if a crash came between the two.
	if _, err := os.Stat(ConfigPath(final)); errors.Is(err, os.ErrNotExist) {
		if err := p.writeConfig(img, digest, ConfigPath(final), uri); err != nil {
			return catalog.PreparedArtifact{}, err
		}
	}
	p.logger.InfoContext(ctx, "prepared image", "image", uri, "digest", out.Digest, "reused", ok)
	return out, nil
}

func (p *Preparer) isLocal(host string) bool {
	return p.local != nil && slices.ContainsFunc(p.opts.LocalHosts, func(h string) bool { return strings.EqualFold(h, host) })
}

func (p *Preparer) isInsecure(uri string) bool {
	host, _, _ := strings.Cut(uri, "/")
	return slices.ContainsFunc(p.opts.InsecureRegistries, func(h string) bool { return strings.EqualFold(h, host) })
}

// localImage reads the image from Berth's own registry, never over the network.
func (p *Preparer) localImage(ctx context.Context, ref name.Reference) (v1.Image, error) {
	repo, id := ref.Context().RepositoryStr(), ref.Identifier()
	d, err := p.local.Resolve(ctx, repo, id)
	if errors.Is(err, errdefs.ErrNotFound) {
		return nil, fail(errdefs.ErrNotFound, err, "image %s not found in Berth's registry", ref)
	}
	if err != nil {
		return nil, fail(errdefs.ErrUnavailable, err, "image %s could not be read from Berth's registry", ref)
	}
	if d.MediaType.IsIndex() {
		idx, err := p.local.Index(ctx, repo, d.Digest.String())
		if err != nil {
			return nil, fail(errdefs.ErrUnavailable, err, "image index %s could not be read from Berth's registry", ref)
		}
		return p.platformImage(idx, ref)
	}
	img, err := p.local.Image(ctx, repo, d.Digest.String())
	if err != nil {
		return nil, fail(errdefs.ErrUnavailable, err, "image %s could not be read from Berth's registry", ref)
	}
	return img, nil
}

// remoteImage fetches the image's manifest from its registry; layers are fetched later,
// while extracting.
func (p *Preparer) remoteImage(ctx context.Context, ref name.Reference) (v1.Image, error) {
	opts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(p.opts.Keychain),
		remote.WithPlatform(*p.opts.Platform),
	}
	if p.opts.Transport != nil {
		opts = append(opts, remote.WithTransport(p.opts.Transport))
	}
	desc, err := remote.Get(ref, opts...)
	if err != nil {
		return nil, remoteError(ctx, ref, err)
	}
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, remoteError(ctx, ref, err)
		}
		return p.platformImage(idx, ref)
	}
	img, err := desc.Image()
	if err != nil {
		return nil, remoteError(ctx, ref, err)
	}
	return img, nil
}

// platformImage picks the configured platform's image from an index (one level of nested
// indexes is followed).
func (p *Preparer) platformImage(idx v1.ImageIndex, ref name.Reference) (v1.Image, error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fail(errdefs.ErrUnavailable, err, "image index %s could not be read", ref)
	}
	want := *p.opts.Platform
	for _, d := range im.Manifests {
		if d.Platform == nil || !d.Platform.Satisfies(want) {
			continue
		}
		switch {
		case d.MediaType.IsImage():
			img, err := idx.Image(d.Digest)
			if err != nil {
				return nil, fail(errdefs.ErrUnavailable, err, "image %s for %s could not be read", ref, platformString(want))
			}
			return img, nil
		case d.MediaType.IsIndex():
			child, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return nil, fail(errdefs.ErrUnavailable, err, "image index %s could not be read", ref)
			}
			return p.platformImage(child, ref)
		}
	}
	return nil, fail(errdefs.ErrNotFound, nil, "image index %s has no image for %s", ref, platformString(want))
}

func platformString(p v1.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// remoteError turns a registry client error into a failure a person can act on.
func remoteError(ctx context.Context, ref name.Reference, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	host := ref.Context().RegistryStr()
	var te *transport.Error
	if errors.As(err, &te) {
		for _, d := range te.Errors {
			switch d.Code {
			case transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode:
				return fail(errdefs.ErrNotFound, err, "image %s not found", ref)
			case transport.UnauthorizedErrorCode, transport.DeniedErrorCode:
				return fail(errdefs.ErrPermissionDenied, err, "access to image %s was denied by registry %s", ref, host)
			}
		}
		switch te.StatusCode {
		case http.StatusNotFound:
			return fail(errdefs.ErrNotFound, err, "image %s not found", ref)
		case http.StatusUnauthorized, http.StatusForbidden:
			return fail(errdefs.ErrPermissionDenied, err, "access to image %s was denied by registry %s", ref, host)
		}
		return fail(errdefs.ErrUnavailable, err, "registry %s answered %d for image %s", host, te.StatusCode, ref)
	}
	var ne net.Error
	var oe *net.OpError
	if errors.As(err, &oe) || errors.As(err, &ne) {
		return fail(errdefs.ErrUnavailable, err, "registry %s is unreachable: %v", host, rootCause(err))
	}
	return fail(errdefs.ErrUnavailable, err, "image %s could not be fetched from registry %s", ref, host)
}

// rootCause returns the innermost error of a chain of single wraps.
func rootCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// extractImage flattens the image's layers into final via a temporary directory.
func (p *Preparer) extractImage(ctx context.Context, img v1.Image, final, uri string) error {
	tmp, err := os.MkdirTemp(p.tmpDir(), "rootfs-")
	if err != nil {
		return fmt.Errorf("create temporary directory: %w", err)
	}
	defer func() { _ = removeTree(tmp) }()
	rc := mutate.Extract(img)
	err = extractTar(ctx, rc, tmp, p.logger)
	if cerr := rc.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, errdefs.ErrInvalidArgument) {
			return fail(errdefs.ErrInvalidArgument, err, "image %s has an unsafe filesystem", uri)
		}
		return fail(errdefs.ErrUnavailable, err, "image %s could not be unpacked: %v", uri, rootCause(err))
	}
	return placeTree(tmp, final)
}
