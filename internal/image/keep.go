package image

import "berth.dev/berth/internal/catalog"

// KeepVersions adds the prepared-artifact digest of each version to keep, allocating it when
// nil, and returns it: the set (*Preparer).GC takes. Versions not prepared (yet, or ever)
// add nothing.
//
// The caller passes every version that still exists, whatever its status, of every runtime
// (an endpoint may pin an old version), plus the versions that live sessions were started
// from, so no running sandbox loses its tree. A version prepared after the caller listed the
// versions is safe: GC keeps trees created or reused within Options.GCGrace.
func KeepVersions(keep map[string]bool, versions ...catalog.Version) map[string]bool {
	if keep == nil {
		keep = map[string]bool{}
	}
	for _, v := range versions {
		if v.Prepared != nil && v.Prepared.Digest != "" {
			keep[v.Prepared.Digest] = true
		}
	}
	return keep
}
