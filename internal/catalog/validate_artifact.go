package catalog

import (
	"regexp"

	"github.com/google/go-containerregistry/pkg/name"
)

// Code runtimes a codeConfiguration may name (AGENTCORE-WIRE.md §3.2).
var codeRuntimes = []string{
	"PYTHON_3_10", "PYTHON_3_11", "PYTHON_3_12", "PYTHON_3_13", "PYTHON_3_14",
	"NODE_18", "NODE_20", "NODE_22",
}

var patBucket = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// artifact checks the agentRuntimeArtifact union and whichever members are set.
func (r fieldRules) artifact(a *Artifact) {
	const at = "agentRuntimeArtifact"
	if !r.notNull(at, a != nil) {
		return
	}
	r.union(at, []string{"containerConfiguration", "codeConfiguration"},
		a.ContainerConfiguration != nil, a.CodeConfiguration != nil)
	if c := a.ContainerConfiguration; c != nil {
		r.containerURI(fieldMember(at, "containerConfiguration.containerUri"), c.ContainerURI)
	}
	if c := a.CodeConfiguration; c != nil {
		r.code(fieldMember(at, "codeConfiguration"), c)
	}
}

// containerURI accepts any valid OCI image reference, not only ECR ones: Berth pulls from
// whatever registry the reference names.
func (r fieldRules) containerURI(at, uri string) {
	if !r.required(at, uri) {
		return
	}
	r.length(at, uri, 1, 1024)
	if _, err := name.ParseReference(uri); err != nil {
		r.f.Add(at, "Member must be a valid OCI image reference ([registry/]repository[:tag][@digest])")
	}
}

func (r fieldRules) code(at string, c *CodeConfiguration) {
	code := fieldMember(at, "code")
	if r.notNull(code, c.Code != nil) {
		r.union(code, []string{"s3"}, c.Code.S3 != nil)
		if s3 := c.Code.S3; s3 != nil {
			r.s3Location(fieldMember(code, "s3"), s3)
		}
	}
	if rt := fieldMember(at, "runtime"); r.required(rt, c.Runtime) {
		r.oneOf(rt, c.Runtime, codeRuntimes...)
	}
	ep := fieldMember(at, "entryPoint")
	if r.notNull(ep, c.EntryPoint != nil) {
		r.count(ep, len(c.EntryPoint), 1, 2)
		for i, e := range c.EntryPoint {
			r.length(fieldItem(ep, i), e, 1, 128)
		}
	}
}

func (r fieldRules) s3Location(at string, s3 *S3Location) {
	if b := fieldMember(at, "bucket"); r.required(b, s3.Bucket) {
		r.pattern(b, s3.Bucket, patBucket)
	}
	if p := fieldMember(at, "prefix"); r.required(p, s3.Prefix) {
		r.length(p, s3.Prefix, 1, 1024)
	}
	if s3.VersionID != nil {
		r.length(fieldMember(at, "versionId"), *s3.VersionID, 3, 1024)
	}
}
