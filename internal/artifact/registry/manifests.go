package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/store"
)

// maxManifestSize bounds a manifest body, as other registries do.
const maxManifestSize = 4 << 20

// manifestKind classifies the manifest media types this registry accepts.
func manifestKind(mt types.MediaType) (image, index, ok bool) {
	switch mt {
	case types.OCIManifestSchema1, types.DockerManifestSchema2:
		return true, false, true
	case types.OCIImageIndex, types.DockerManifestList:
		return false, true, true
	}
	return false, false, false
}

// manifest answers GET, HEAD, PUT and DELETE on /v2/<name>/manifests/<reference>.
func (r *Registry) manifest(w http.ResponseWriter, req *http.Request, name, ref string) error {
	if !isDigestRef(ref) && !tagRE.MatchString(ref) {
		return newError(http.StatusBadRequest, codeManifestInvalid, "invalid reference %q: neither a tag nor a digest", ref)
	}
	switch req.Method {
	case http.MethodGet, http.MethodHead:
		return r.getManifest(w, req, name, ref)
	case http.MethodPut:
		return r.putManifest(w, req, name, ref)
	case http.MethodDelete:
		return r.deleteManifest(w, req, name, ref)
	}
	return errMethod
}

func isDigestRef(ref string) bool { return strings.Contains(ref, ":") }

// resolveManifest finds the manifest repo:ref names (ref is a tag or a digest), or returns an
// error wrapping ErrNotFound.
func (r *Registry) resolveManifest(ctx context.Context, repo, ref string) (store.Manifest, error) {
	var m store.Manifest
	if isDigestRef(ref) {
		if _, err := parseDigest(ref); err != nil {
			return m, fmt.Errorf("resolve manifest %s@%s: %w", repo, ref, err)
		}
	}
	err := r.st.View(ctx, func(tx store.Tx) error {
		digest := ref
		if !isDigestRef(ref) {
			d, err := tx.Registry().GetTag(ctx, repo, ref)
			if err != nil {
				return err
			}
			digest = d
		}
		got, err := tx.Registry().GetManifest(ctx, repo, digest)
		m = got
		return err
	})
	if err != nil {
		return m, fmt.Errorf("resolve manifest %s:%s: %w", repo, ref, err)
	}
	return m, nil
}

func (r *Registry) getManifest(w http.ResponseWriter, req *http.Request, name, ref string) error {
	m, err := r.resolveManifest(req.Context(), name, ref)
	if errors.Is(err, errdefs.ErrNotFound) {
		return errManifestUnknown
	}
	if errors.Is(err, errdefs.ErrInvalidArgument) {
		return newError(http.StatusBadRequest, codeDigestInvalid, "invalid digest %q", ref)
	}
	if err != nil {
		return internalError("resolve manifest", err)
	}
	h, err := parseDigest(m.Digest)
	if err != nil {
		return internalError("stored manifest digest", err)
	}
	f, err := r.blobs.open(h)
	if err != nil {
		// The metadata names a manifest whose bytes are gone: an internal fault.
		return internalError("open manifest", err)
	}
	defer func() { _ = f.Close() }()
	w.Header().Set("Content-Type", m.MediaType)
	w.Header().Set("Docker-Content-Digest", m.Digest)
	w.Header().Set("Etag", `"`+m.Digest+`"`)
	w.Header().Set("Content-Length", strconv.FormatInt(m.Size, 10))
	w.WriteHeader(http.StatusOK)
	if req.Method == http.MethodHead {
		return nil
	}
	if _, err := io.Copy(w, f); err != nil {
		r.logger.DebugContext(req.Context(), "send manifest", "error", err)
	}
	return nil
}

func (r *Registry) putManifest(w http.ResponseWriter, req *http.Request, name, ref string) error {
	body, err := io.ReadAll(io.LimitReader(req.Body, maxManifestSize+1))
	if err != nil {
		return newError(http.StatusBadRequest, codeManifestInvalid, "read manifest: %v", err)
	}
	if len(body) > maxManifestSize {
		return newError(http.StatusRequestEntityTooLarge, codeSizeInvalid, "manifest is larger than %d bytes", maxManifestSize)
	}
	sum := sha256.Sum256(body)
	h := v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
	if isDigestRef(ref) && ref != h.String() {
		return newError(http.StatusBadRequest, codeDigestInvalid, "manifest digest is %s, not %s", h, ref)
	}
	mt, err := manifestMediaType(req.Header.Get("Content-Type"), body)
	if err != nil {
		return err
	}
	if err := r.checkReferences(req.Context(), name, mt, body); err != nil {
		return err
	}
	if _, err := r.blobs.put(h, bytes.NewReader(body)); err != nil {
		return internalError("store manifest", err)
	}
	m := store.Manifest{
		Repository: name,
		Digest:     h.String(),
		MediaType:  string(mt),
		Size:       int64(len(body)),
		CreatedAt:  time.Now().UTC(),
	}
	err = r.st.Update(req.Context(), func(tx store.Tx) error {
		if err := tx.Registry().PutManifest(req.Context(), m); err != nil {
			return err
		}
		if !isDigestRef(ref) {
			return tx.Registry().PutTag(req.Context(), name, ref, m.Digest)
		}
		return nil
	})
	if err != nil {
		return internalError("record manifest", err)
	}
	w.Header().Set("Location", "/v2/"+name+"/manifests/"+m.Digest)
	w.Header().Set("Docker-Content-Digest", m.Digest)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
	return nil
}

// manifestMediaType settles the media type from the Content-Type header and the body's
// mediaType member, which must agree when both are present.
func manifestMediaType(contentType string, body []byte) (types.MediaType, error) {
	var probe struct {
		MediaType string          `json:"mediaType"`
		Config    json.RawMessage `json:"config"`
		Manifests json.RawMessage `json:"manifests"`
	}
	if err := json.Unmarshal(body, &probe); err != nil {
		return "", newError(http.StatusBadRequest, codeManifestInvalid, "manifest is not valid JSON: %v", err)
	}
	header := ""
	if contentType != "" {
		if mt, _, err := mime.ParseMediaType(contentType); err == nil {
			header = mt
		}
	}
	mt := header
	switch {
	case mt == "" && probe.MediaType != "":
		mt = probe.MediaType
	case mt == "" && probe.Manifests != nil:
		mt = string(types.OCIImageIndex)
	case mt == "" && probe.Config != nil:
		mt = string(types.OCIManifestSchema1)
	case probe.MediaType != "" && probe.MediaType != mt:
		return "", newError(http.StatusBadRequest, codeManifestInvalid,
			"Content-Type %q does not match the manifest's mediaType %q", mt, probe.MediaType)
	}
	if _, _, ok := manifestKind(types.MediaType(mt)); !ok {
		return "", newError(http.StatusBadRequest, codeManifestInvalid, "unsupported manifest media type %q", mt)
	}
	return types.MediaType(mt), nil
}

// checkReferences verifies that what the manifest references is already here: the config
// and layers of an image (foreign layers aside), the child manifests of an index.
func (r *Registry) checkReferences(ctx context.Context, name string, mt types.MediaType, body []byte) error {
	image, _, _ := manifestKind(mt)
	if image {
		m, err := v1.ParseManifest(bytes.NewReader(body))
		if err != nil {
			return newError(http.StatusBadRequest, codeManifestInvalid, "parse image manifest: %v", err)
		}
		if err := r.checkBlob(m.Config); err != nil {
			return err
		}
		for _, l := range m.Layers {
			if err := r.checkBlob(l); err != nil {
				return err
			}
		}
		return nil
	}
	idx, err := v1.ParseIndexManifest(bytes.NewReader(body))
	if err != nil {
		return newError(http.StatusBadRequest, codeManifestInvalid, "parse image index: %v", err)
	}
	for _, d := range idx.Manifests {
		if _, _, ok := manifestKind(d.MediaType); !ok {
			if err := r.checkBlob(d); err != nil {
				return err
			}
			continue
		}
		if _, err := parseDigest(d.Digest.String()); err != nil {
			return newError(http.StatusBadRequest, codeManifestInvalid, "invalid digest %q in index", d.Digest)
		}
		_, err := r.resolveManifest(ctx, name, d.Digest.String())
		if errors.Is(err, errdefs.ErrNotFound) {
			return newError(http.StatusBadRequest, codeManifestBlobUnknown, "manifest %s is unknown to repository %s", d.Digest, name)
		}
		if err != nil {
			return internalError("check child manifest", err)
		}
	}
	return nil
}

// checkBlob requires the descriptor's blob, unless it is a foreign layer fetched elsewhere.
func (r *Registry) checkBlob(d v1.Descriptor) error {
	if len(d.URLs) > 0 || !d.MediaType.IsDistributable() {
		return nil
	}
	h, err := parseDigest(d.Digest.String())
	if err != nil {
		return newError(http.StatusBadRequest, codeManifestInvalid, "invalid digest %q in manifest", d.Digest)
	}
	size, err := r.blobs.stat(h)
	if errors.Is(err, errdefs.ErrNotFound) {
		return newError(http.StatusBadRequest, codeManifestBlobUnknown, "blob %s is unknown to registry", h)
	}
	if err != nil {
		return internalError("check blob", err)
	}
	if d.Size != 0 && d.Size != size {
		return newError(http.StatusBadRequest, codeManifestInvalid, "blob %s has %d bytes, manifest says %d", h, size, d.Size)
	}
	return nil
}

// deleteManifest deletes a manifest by digest, with every tag pointing at it. Deleting a tag
// alone is not supported (the specification allows refusing it).
func (r *Registry) deleteManifest(w http.ResponseWriter, req *http.Request, name, ref string) error {
	if !isDigestRef(ref) {
		return newError(http.StatusMethodNotAllowed, codeUnsupported,
			"deleting a tag is not supported; delete the manifest by digest")
	}
	if _, err := parseDigest(ref); err != nil {
		return newError(http.StatusBadRequest, codeDigestInvalid, "invalid digest %q", ref)
	}
	err := r.st.Update(req.Context(), func(tx store.Tx) error {
		return tx.Registry().DeleteManifest(req.Context(), name, ref)
	})
	if errors.Is(err, errdefs.ErrNotFound) {
		return errManifestUnknown
	}
	if err != nil {
		return internalError("delete manifest", err)
	}
	// The bytes stay: blobs are shared and may back the same manifest in other repositories.
	w.WriteHeader(http.StatusAccepted)
	return nil
}
