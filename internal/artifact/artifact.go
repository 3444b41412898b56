// Package artifact is where agent artifacts live: code zips in an S3-compatible object store
// (Berth's built-in one, or an external S3 endpoint) and container images in an OCI registry.
//
// This file holds the small interface the image builder consumes; objectstore/ implements it
// for the built-in store and for external S3, and registry/ serves images.
package artifact

import (
	"context"
	"io"
)

// ObjectSource opens code-zip objects by S3 location.
type ObjectSource interface {
	// OpenObject returns the object's content and its metadata (Size, Digest if known).
	// versionID "" means the current version. A missing bucket, key or version is an error
	// wrapping errdefs.ErrNotFound. The caller must close the reader; reading to EOF may
	// return an error if the content fails an integrity check.
	OpenObject(ctx context.Context, bucket, key, versionID string) (io.ReadCloser, ObjectInfo, error)
}

// ObjectInfo describes an opened object.
type ObjectInfo struct {
	Size      int64
	Digest    string // "sha256:<hex>" of the content, or "" when the source does not know it
	ETag      string // as the source reports it, quoted
	VersionID string // "" when the source is not versioned
}
