package catalog

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"berth.dev/berth/internal/errdefs"
)

func TestValidateEndpoint_Rules(t *testing.T) {
	const (
		namePat    = "Member must satisfy regular expression pattern: ^[a-zA-Z][a-zA-Z0-9_]{0,47}$"
		versionPat = "Member must satisfy regular expression pattern: ^([1-9][0-9]{0,4})$"
	)
	token := new(strings.Repeat("t", 36))
	cases := []struct {
		name        string
		endpoint    string
		version     *string
		description *string
		token       *string
		want        []errdefs.FieldError
	}{
		{"minimal", "PROD", nil, nil, nil, nil},
		{"everything", "prod_2", new("99999"), new(strings.Repeat("d", 256)), token, nil},
		{"version 1", "p", new("1"), nil, nil, nil},
		{"name missing", "", nil, nil, nil, []errdefs.FieldError{vFE("name", msgNotNull)}},
		{"name hyphen", "my-endpoint", nil, nil, nil, []errdefs.FieldError{vFE("name", namePat)}},
		{"name 49", "e" + strings.Repeat("n", 48), nil, nil, nil, []errdefs.FieldError{
			vFE("name", "Member must have length less than or equal to 48"), vFE("name", namePat),
		}},
		{"version 0", "p", new("0"), nil, nil, []errdefs.FieldError{vFE("agentRuntimeVersion", versionPat)}},
		{"version leading zero", "p", new("01"), nil, nil, []errdefs.FieldError{vFE("agentRuntimeVersion", versionPat)}},
		{"version 100000", "p", new("100000"), nil, nil, []errdefs.FieldError{vFE("agentRuntimeVersion", versionPat)}},
		{"version empty", "p", new(""), nil, nil, []errdefs.FieldError{vFE("agentRuntimeVersion", versionPat)}},
		{"description empty", "p", nil, new(""), nil, []errdefs.FieldError{
			vFE("description", "Member must have length greater than or equal to 1"),
		}},
		{"description 257", "p", nil, new(strings.Repeat("d", 257)), nil, []errdefs.FieldError{
			vFE("description", "Member must have length less than or equal to 256"),
		}},
		{"token short", "p", nil, nil, new("abc"), []errdefs.FieldError{
			vFE("clientToken", "Member must have length greater than or equal to 33"),
		}},
		{"all wrong", "1", new("v1"), new(""), new("x_"), []errdefs.FieldError{
			vFE("name", namePat),
			vFE("agentRuntimeVersion", versionPat),
			vFE("description", "Member must have length greater than or equal to 1"),
			vFE("clientToken", "Member must have length greater than or equal to 33"),
			vFE("clientToken", vTokenPattern),
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := vFieldErrors(t, ValidateCreateEndpoint(tc.endpoint, tc.version, tc.description, tc.token, nil))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("create (-want +got):\n%s", diff)
			}
			// Update has no name; every other rule is the same.
			var wantUpdate []errdefs.FieldError
			for _, f := range tc.want {
				if f.Name != "name" {
					wantUpdate = append(wantUpdate, f)
				}
			}
			got = vFieldErrors(t, ValidateUpdateEndpoint(tc.version, tc.description, tc.token))
			if diff := cmp.Diff(wantUpdate, got); diff != "" {
				t.Errorf("update (-want +got):\n%s", diff)
			}
		})
	}
}
