package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// pushed is where an image went in the server's built-in registry.
type pushed struct {
	Reference string `json:"reference"` // host/repo:tag, the containerUri to deploy
	Digest    string `json:"digest"`
}

// registryRef is repo:tag in the built-in registry of the server at a.endpoint (its /v2/
// API answers on the same host and port).
func (a *api) registryRef(repo, tag string) (name.Tag, error) {
	u, err := url.Parse(a.endpoint)
	if err != nil {
		return name.Tag{}, fmt.Errorf("endpoint %q: %w", a.endpoint, err)
	}
	var opts []name.Option
	if u.Scheme == "http" {
		opts = append(opts, name.Insecure)
	}
	t, err := name.NewTag(u.Host+"/"+repo+":"+tag, opts...)
	if err != nil {
		return name.Tag{}, hintError{fmt.Errorf("image name %s/%s:%s: %w", u.Host, repo, tag, err), "repository names are lowercase letters, digits and . _ - separators, tags up to 128 characters"}
	}
	return t, nil
}

// pushImage pushes img as repo:tag to the server's built-in registry, logging in with the
// access key (HTTP basic auth: key id and secret).
func (a *api) pushImage(ctx context.Context, img v1.Image, repo, tag string, prog *progress) (pushed, error) {
	ref, err := a.registryRef(repo, tag)
	if err != nil {
		return pushed{}, err
	}
	creds, err := a.creds.Retrieve(ctx)
	if err != nil {
		return pushed{}, fmt.Errorf("credentials: %w", err)
	}
	prog.step("Pushing %s", ref)
	auth := &authn.Basic{Username: creds.AccessKeyID, Password: creds.SecretAccessKey}
	if err := remote.Write(ref, img, remote.WithAuth(auth), remote.WithContext(ctx)); err != nil {
		return pushed{}, fmt.Errorf("push %s: %w", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		return pushed{}, fmt.Errorf("push %s: %w", ref, err)
	}
	return pushed{Reference: ref.String(), Digest: d.String()}, nil
}

// loadArchive opens an image saved on disk: an OCI image layout directory (its index's
// image for this machine's platform, else its only or first image) or a docker-archive
// tarball ('docker save') holding one image.
func loadArchive(path string) (v1.Image, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, hintError{fmt.Errorf("image archive: %w", err), "give an OCI image layout directory or a docker-archive tarball"}
	}
	if st.IsDir() {
		idx, err := layout.ImageIndexFromPath(path)
		if err != nil {
			return nil, hintError{fmt.Errorf("%s is not an OCI image layout: %w", path, err), "an OCI layout directory holds oci-layout, index.json and blobs/"}
		}
		img, err := pickImage(idx, 0)
		if err != nil {
			return nil, fmt.Errorf("OCI layout %s: %w", path, err)
		}
		return img, nil
	}
	img, err := tarball.ImageFromPath(path, nil)
	if err != nil {
		return nil, hintError{fmt.Errorf("%s is not a docker-archive tarball with one image: %w", path, err),
			"give a 'docker save' tarball, or an OCI image layout directory (extract an oci-archive with tar -x)"}
	}
	return img, nil
}

// pickImage chooses the image of an index: one for linux and this machine's architecture
// if the index says platforms, else the first, descending into nested indexes.
func pickImage(idx v1.ImageIndex, depth int) (v1.Image, error) {
	if depth > 4 {
		return nil, errors.New("image indexes nested too deep")
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	var first *v1.Descriptor
	for i := range m.Manifests {
		d := &m.Manifests[i]
		if !d.MediaType.IsImage() && !d.MediaType.IsIndex() {
			continue
		}
		if first == nil {
			first = d
		}
		if d.Platform != nil && d.Platform.OS == "linux" && d.Platform.Architecture == runtime.GOARCH {
			first = d
			break
		}
	}
	if first == nil {
		return nil, errors.New("it holds no image")
	}
	if first.MediaType.IsIndex() {
		child, err := idx.ImageIndex(first.Digest)
		if err != nil {
			return nil, err
		}
		return pickImage(child, depth+1)
	}
	return idx.Image(first.Digest)
}

// repoName turns a runtime or file name into a registry repository under agents/:
// lowercase, and only letters, digits and single separators.
func repoName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	out := strings.Trim(b.String(), "-")
	if out == "" {
		out = "agent"
	}
	return "agents/" + out
}

// newTag is a tag for a push: the time to the millisecond, as the starter toolkit
// tags its images.
func newTag() string {
	return time.Now().UTC().Format("20060102-150405.000")
}
