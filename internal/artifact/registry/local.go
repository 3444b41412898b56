package registry

import (
	"bytes"
	"context"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"berth.dev/berth/internal/errdefs"
)

// Resolve returns the descriptor of the manifest that repo:reference names (reference is a
// tag or a sha256 digest), or an error wrapping ErrNotFound. It reads local state only.
func (r *Registry) Resolve(ctx context.Context, repo, reference string) (v1.Descriptor, error) {
	m, err := r.resolveManifest(ctx, repo, reference)
	if err != nil {
		return v1.Descriptor{}, err
	}
	h, err := parseDigest(m.Digest)
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("resolve %s:%s: stored digest: %w", repo, reference, err)
	}
	return v1.Descriptor{MediaType: types.MediaType(m.MediaType), Digest: h, Size: m.Size}, nil
}

// Image returns the image that repo:reference names, reading manifest, config and layers from
// the local blob files. An index is an error wrapping ErrInvalidArgument; pick a child with
// Index.
func (r *Registry) Image(ctx context.Context, repo, reference string) (v1.Image, error) {
	d, err := r.Resolve(ctx, repo, reference)
	if err != nil {
		return nil, err
	}
	img, err := r.blobs.image(d.Digest)
	if err != nil {
		return nil, fmt.Errorf("local image %s:%s: %w", repo, reference, err)
	}
	return img, nil
}

// Index returns the image index that repo:reference names, read from the local blob files.
// Its child images and indexes are read locally too. An image manifest is an error wrapping
// ErrInvalidArgument.
func (r *Registry) Index(ctx context.Context, repo, reference string) (v1.ImageIndex, error) {
	d, err := r.Resolve(ctx, repo, reference)
	if err != nil {
		return nil, err
	}
	idx, err := r.blobs.index(d.Digest)
	if err != nil {
		return nil, fmt.Errorf("local index %s:%s: %w", repo, reference, err)
	}
	return idx, nil
}

// readAll returns the whole blob h.
func (b *blobStore) readAll(h v1.Hash) ([]byte, error) {
	f, err := b.open(h)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", h, err)
	}
	return data, nil
}

// image builds a v1.Image over the stored image manifest h.
func (b *blobStore) image(h v1.Hash) (v1.Image, error) {
	raw, err := b.readAll(h)
	if err != nil {
		return nil, err
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("parse manifest %s: %w", h, err)
	}
	if image, _, _ := manifestKind(m.MediaType); !image && m.MediaType != "" {
		return nil, fmt.Errorf("manifest %s is a %s, not an image: %w", h, m.MediaType, errdefs.ErrInvalidArgument)
	}
	mt := m.MediaType
	if mt == "" {
		mt = types.OCIManifestSchema1
	}
	img, err := partial.CompressedToImage(&localImage{blobs: b, raw: raw, manifest: m, mediaType: mt})
	if err != nil {
		return nil, fmt.Errorf("local image %s: %w", h, err)
	}
	return img, nil
}

// index builds a v1.ImageIndex over the stored index h.
func (b *blobStore) index(h v1.Hash) (v1.ImageIndex, error) {
	raw, err := b.readAll(h)
	if err != nil {
		return nil, err
	}
	m, err := v1.ParseIndexManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("parse index %s: %w", h, err)
	}
	if _, index, _ := manifestKind(m.MediaType); !index && m.MediaType != "" {
		return nil, fmt.Errorf("manifest %s is a %s, not an index: %w", h, m.MediaType, errdefs.ErrInvalidArgument)
	}
	mt := m.MediaType
	if mt == "" {
		mt = types.OCIImageIndex
	}
	return &localIndex{blobs: b, raw: raw, manifest: m, mediaType: mt, digest: h}, nil
}

// localImage is the partial.CompressedImageCore of a stored image.
type localImage struct {
	blobs     *blobStore
	raw       []byte
	manifest  *v1.Manifest
	mediaType types.MediaType
}

var _ partial.CompressedImageCore = (*localImage)(nil)

func (i *localImage) RawConfigFile() ([]byte, error) {
	return i.blobs.readAll(i.manifest.Config.Digest)
}

func (i *localImage) MediaType() (types.MediaType, error) { return i.mediaType, nil }

func (i *localImage) RawManifest() ([]byte, error) { return i.raw, nil }

func (i *localImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if h == i.manifest.Config.Digest {
		return &localLayer{blobs: i.blobs, desc: i.manifest.Config}, nil
	}
	for _, l := range i.manifest.Layers {
		if l.Digest == h {
			return &localLayer{blobs: i.blobs, desc: l}, nil
		}
	}
	return nil, fmt.Errorf("layer %s is not in the image: %w", h, errdefs.ErrNotFound)
}

// localLayer is a stored blob as a partial.CompressedLayer.
type localLayer struct {
	blobs *blobStore
	desc  v1.Descriptor
}

var _ partial.CompressedLayer = (*localLayer)(nil)

func (l *localLayer) Digest() (v1.Hash, error) { return l.desc.Digest, nil }

func (l *localLayer) Compressed() (io.ReadCloser, error) { return l.blobs.open(l.desc.Digest) }

func (l *localLayer) Size() (int64, error) { return l.desc.Size, nil }

func (l *localLayer) MediaType() (types.MediaType, error) { return l.desc.MediaType, nil }

// localIndex is a stored image index whose children are read locally.
type localIndex struct {
	blobs     *blobStore
	raw       []byte
	manifest  *v1.IndexManifest
	mediaType types.MediaType
	digest    v1.Hash
}

var _ v1.ImageIndex = (*localIndex)(nil)

func (x *localIndex) MediaType() (types.MediaType, error) { return x.mediaType, nil }

func (x *localIndex) Digest() (v1.Hash, error) { return x.digest, nil }

func (x *localIndex) Size() (int64, error) { return int64(len(x.raw)), nil }

func (x *localIndex) IndexManifest() (*v1.IndexManifest, error) { return x.manifest.DeepCopy(), nil }

func (x *localIndex) RawManifest() ([]byte, error) { return x.raw, nil }

func (x *localIndex) Image(h v1.Hash) (v1.Image, error) {
	if err := x.child(h); err != nil {
		return nil, err
	}
	return x.blobs.image(h)
}

func (x *localIndex) ImageIndex(h v1.Hash) (v1.ImageIndex, error) {
	if err := x.child(h); err != nil {
		return nil, err
	}
	return x.blobs.index(h)
}

// child requires h to be listed by the index.
func (x *localIndex) child(h v1.Hash) error {
	for _, d := range x.manifest.Manifests {
		if d.Digest == h {
			return nil
		}
	}
	return fmt.Errorf("manifest %s is not in index %s: %w", h, x.digest, errdefs.ErrNotFound)
}
