package catalog

import (
	"regexp"
	"strings"
)

var patMountPath = regexp.MustCompile(`^/mnt/[a-zA-Z0-9._-]+/?$`)

// filesystems checks filesystemConfigurations: at most 5 items, each a union of exactly one
// mount. Mount paths sit exactly one level under /mnt; Berth also refuses /mnt/. and
// /mnt/.. (they resolve outside that level) and two mounts at the same path.
func (r fieldRules) filesystems(fs []FilesystemConfiguration) {
	const at = "filesystemConfigurations"
	r.count(at, len(fs), 0, 5)
	seen := make(map[string]string, len(fs))
	for i := range fs {
		fc := &fs[i]
		it := fieldItem(at, i)
		r.union(it, []string{"sessionStorage", "s3FilesAccessPoint", "efsAccessPoint"},
			fc.SessionStorage != nil, fc.S3FilesAccessPoint != nil, fc.EfsAccessPoint != nil)
		if s := fc.SessionStorage; s != nil {
			r.mountPath(fieldMember(it, "sessionStorage.mountPath"), s.MountPath, seen)
		}
		r.accessPoint(fieldMember(it, "s3FilesAccessPoint"), fc.S3FilesAccessPoint, seen)
		r.accessPoint(fieldMember(it, "efsAccessPoint"), fc.EfsAccessPoint, seen)
	}
}

func (r fieldRules) accessPoint(at string, ap *AccessPoint, seen map[string]string) {
	if ap == nil {
		return
	}
	r.required(fieldMember(at, "accessPointArn"), ap.AccessPointArn)
	r.mountPath(fieldMember(at, "mountPath"), ap.MountPath, seen)
}

// mountPath checks one mount path; seen maps the normalised paths met so far to the field
// that declared them.
func (r fieldRules) mountPath(at, p string, seen map[string]string) {
	if !r.required(at, p) {
		return
	}
	r.length(at, p, 6, 200)
	r.pattern(at, p, patMountPath)
	dir := strings.TrimSuffix(strings.TrimPrefix(p, "/mnt/"), "/")
	if dir == "." || dir == ".." {
		r.f.Add(at, "Member must not be /mnt/. or /mnt/..")
		return
	}
	if first, dup := seen[dir]; dup {
		r.f.Add(at, "Member must not repeat the mount path of %s", first)
		return
	}
	seen[dir] = at
}
