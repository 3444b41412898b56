package catalog

import (
	"strings"
	"testing"

	"berth.dev/berth/internal/errdefs"
)

const vMountPattern = "Member must satisfy regular expression pattern: ^/mnt/[a-zA-Z0-9._-]+/?$"

func vWithFS(fs ...FilesystemConfiguration) func(*RuntimeConfig) {
	return func(c *RuntimeConfig) { c.FilesystemConfigurations = fs }
}

func vSession(path string) FilesystemConfiguration {
	return FilesystemConfiguration{SessionStorage: &SessionStorage{MountPath: path}}
}

func vEFS(arn, path string) FilesystemConfiguration {
	return FilesystemConfiguration{EfsAccessPoint: &AccessPoint{AccessPointArn: arn, MountPath: path}}
}

func TestValidateCreateRuntime_Filesystems(t *testing.T) {
	const ap = "arn:aws:elasticfilesystem:us-east-1:123456789012:access-point/fsap-1"
	const s0 = "filesystemConfigurations[0].sessionStorage.mountPath"
	vRunCreateCases(t, vMinimalConfig, []vCase{
		{"five", vWithFS(vSession("/mnt/a"), vSession("/mnt/b/"), vEFS(ap, "/mnt/c"), vEFS(ap, "/mnt/d"),
			FilesystemConfiguration{S3FilesAccessPoint: &AccessPoint{AccessPointArn: ap, MountPath: "/mnt/e.f-g_h"}}), nil},
		{"longest path", vWithFS(vSession("/mnt/" + strings.Repeat("p", 195))), nil},
		{"six", vWithFS(vSession("/mnt/a"), vSession("/mnt/b"), vSession("/mnt/c"), vSession("/mnt/d"), vSession("/mnt/e"), vSession("/mnt/f")),
			[]errdefs.FieldError{vFE("filesystemConfigurations", "Member must have length less than or equal to 5")}},
		{"union none", vWithFS(FilesystemConfiguration{}), []errdefs.FieldError{vFE("filesystemConfigurations[0]",
			"Member must have exactly one of [sessionStorage, s3FilesAccessPoint, efsAccessPoint] set, but none was set")}},
		{"union two", vWithFS(FilesystemConfiguration{
			SessionStorage: &SessionStorage{MountPath: "/mnt/a"},
			EfsAccessPoint: &AccessPoint{AccessPointArn: ap, MountPath: "/mnt/b"},
		}), []errdefs.FieldError{vFE("filesystemConfigurations[0]",
			"Member must have exactly one of [sessionStorage, s3FilesAccessPoint, efsAccessPoint] set, but 2 were set: sessionStorage, efsAccessPoint")}},
		{"path missing", vWithFS(vSession("")), []errdefs.FieldError{vFE(s0, msgNotNull)}},
		{"path too short", vWithFS(vSession("/mnt/")), []errdefs.FieldError{
			vFE(s0, "Member must have length greater than or equal to 6"), vFE(s0, vMountPattern),
		}},
		{"path 201", vWithFS(vSession("/mnt/" + strings.Repeat("p", 196))), []errdefs.FieldError{
			vFE(s0, "Member must have length less than or equal to 200"),
		}},
		{"path outside mnt", vWithFS(vSession("/data/x")), []errdefs.FieldError{vFE(s0, vMountPattern)}},
		{"path two levels", vWithFS(vSession("/mnt/a/b")), []errdefs.FieldError{vFE(s0, vMountPattern)}},
		{"path dot", vWithFS(vSession("/mnt/.")), []errdefs.FieldError{vFE(s0, "Member must not be /mnt/. or /mnt/..")}},
		{"path dotdot", vWithFS(vSession("/mnt/../")), []errdefs.FieldError{vFE(s0, "Member must not be /mnt/. or /mnt/..")}},
		{"path repeated", vWithFS(vSession("/mnt/data"), vEFS(ap, "/mnt/data/")), []errdefs.FieldError{
			vFE("filesystemConfigurations[1].efsAccessPoint.mountPath",
				"Member must not repeat the mount path of "+s0),
		}},
		{"access point arn missing", vWithFS(vEFS("", "/mnt/x")), []errdefs.FieldError{
			vFE("filesystemConfigurations[0].efsAccessPoint.accessPointArn", msgNotNull),
		}},
		{"s3 files access point", vWithFS(FilesystemConfiguration{S3FilesAccessPoint: &AccessPoint{MountPath: "/tmp"}}),
			[]errdefs.FieldError{
				vFE("filesystemConfigurations[0].s3FilesAccessPoint.accessPointArn", msgNotNull),
				vFE("filesystemConfigurations[0].s3FilesAccessPoint.mountPath", "Member must have length greater than or equal to 6"),
				vFE("filesystemConfigurations[0].s3FilesAccessPoint.mountPath", vMountPattern),
			}},
	})
}
