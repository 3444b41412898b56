package catalog

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"berth.dev/berth/internal/errdefs"
)

const (
	vTokenPattern = "Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,256}$"
	vTagPattern   = `Member must satisfy regular expression pattern: ^[a-zA-Z0-9\s._:/=+@-]*$`
)

func TestValidateClientToken_Rules(t *testing.T) {
	cases := []struct {
		name  string
		token *string
		want  []errdefs.FieldError
	}{
		{"nil", nil, nil},
		{"uuid", new("5a0b6c7d-1e2f-4a3b-8c9d-0e1f2a3b4c5d"), nil},
		{"33 chars", new(strings.Repeat("a", 33)), nil},
		{"256 chars", new(strings.Repeat("a", 256)), nil},
		{"dashes inside", new("a--b" + strings.Repeat("c", 30)), nil},
		{"empty", new(""), []errdefs.FieldError{
			vFE("clientToken", "Member must have length greater than or equal to 33"),
			vFE("clientToken", vTokenPattern),
		}},
		{"32 chars", new(strings.Repeat("a", 32)), []errdefs.FieldError{
			vFE("clientToken", "Member must have length greater than or equal to 33"),
		}},
		{"257 chars", new(strings.Repeat("a", 257)), []errdefs.FieldError{
			vFE("clientToken", "Member must have length less than or equal to 256"),
		}},
		{"leading dash", new("-" + strings.Repeat("a", 33)), []errdefs.FieldError{vFE("clientToken", vTokenPattern)}},
		{"trailing dash", new(strings.Repeat("a", 33) + "-"), []errdefs.FieldError{vFE("clientToken", vTokenPattern)}},
		{"underscore", new(strings.Repeat("a", 33) + "_b"), []errdefs.FieldError{vFE("clientToken", vTokenPattern)}},
		{"non-ascii counted as one", new(strings.Repeat("é", 33)), []errdefs.FieldError{vFE("clientToken", vTokenPattern)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var f errdefs.Fields
			ValidateClientToken("clientToken", tc.token, &f)
			if diff := cmp.Diff(tc.want, []errdefs.FieldError(f)); diff != "" {
				t.Errorf("field errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateCreateRuntime_Tags(t *testing.T) {
	many := func(n int) map[string]string {
		m := make(map[string]string, n)
		for i := range n {
			m["k"+strings.Repeat("x", i)] = "v"
		}
		return m
	}
	cases := []struct {
		name string
		tags map[string]string
		want []errdefs.FieldError
	}{
		{"none", nil, nil},
		{"50 entries", many(50), nil},
		{"allowed characters", map[string]string{"a b\t._:/=+@-Z9": "a b\t._:/=+@-Z9"}, nil},
		{"key 128", map[string]string{strings.Repeat("k", 128): strings.Repeat("v", 256)}, nil},
		{"empty value", map[string]string{"k": ""}, nil},
		{"51 entries", many(51), []errdefs.FieldError{vFE("tags", "Member must have length less than or equal to 50")}},
		{"empty key", map[string]string{"": "v"}, []errdefs.FieldError{
			vFE("tags[]", "Map key must have length greater than or equal to 1"),
		}},
		{"key 129", map[string]string{strings.Repeat("k", 129): "v"}, []errdefs.FieldError{
			vFE("tags["+strings.Repeat("k", 129)+"]", "Map key must have length less than or equal to 128"),
		}},
		{"value 257", map[string]string{"k": strings.Repeat("v", 257)}, []errdefs.FieldError{
			vFE("tags[k]", "Member must have length less than or equal to 256"),
		}},
		{"key pattern", map[string]string{"k*": "v"}, []errdefs.FieldError{
			vFE("tags[k*]", `Map key must satisfy regular expression pattern: ^[a-zA-Z0-9\s._:/=+@-]*$`),
		}},
		{"value pattern", map[string]string{"k": "v#"}, []errdefs.FieldError{vFE("tags[k]", vTagPattern)}},
		{"sorted by key", map[string]string{"b": "!", "a": "!"}, []errdefs.FieldError{
			vFE("tags[a]", vTagPattern), vFE("tags[b]", vTagPattern),
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := vFieldErrors(t, ValidateCreateRuntime("a", vMinimalConfig(), tc.tags, nil))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("create runtime (-want +got):\n%s", diff)
			}
			got = vFieldErrors(t, ValidateCreateEndpoint("e", nil, nil, nil, tc.tags))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("create endpoint (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidatePagination_Rules(t *testing.T) {
	cases := []struct {
		name       string
		maxResults *int
		nextToken  *string
		want       []errdefs.FieldError
	}{
		{"absent", nil, nil, nil},
		{"bounds", new(1), new("t"), nil},
		{"upper bounds", new(100), new(strings.Repeat("t", 2048)), nil},
		{"zero", new(0), nil, []errdefs.FieldError{vFE("maxResults", "Member must have value between 1 and 100")}},
		{"101", new(101), nil, []errdefs.FieldError{vFE("maxResults", "Member must have value between 1 and 100")}},
		{"empty token", nil, new(""), []errdefs.FieldError{
			vFE("nextToken", "Member must have length greater than or equal to 1"),
		}},
		{"long token", nil, new(strings.Repeat("t", 2049)), []errdefs.FieldError{
			vFE("nextToken", "Member must have length less than or equal to 2048"),
		}},
		{"space in token", nil, new("a b"), []errdefs.FieldError{
			vFE("nextToken", `Member must satisfy regular expression pattern: ^\S*$`),
		}},
		{"both", new(-1), new("a\nb"), []errdefs.FieldError{
			vFE("maxResults", "Member must have value between 1 and 100"),
			vFE("nextToken", `Member must satisfy regular expression pattern: ^\S*$`),
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := vFieldErrors(t, ValidatePagination(tc.maxResults, tc.nextToken))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("field errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateCreateRuntime_Name(t *testing.T) {
	const pattern = "Member must satisfy regular expression pattern: ^[a-zA-Z][a-zA-Z0-9_]{0,47}$"
	cases := []struct {
		name string
		in   string
		want []errdefs.FieldError
	}{
		{"one letter", "a", nil},
		{"48 chars", "A" + strings.Repeat("b_9", 15) + "cd", nil},
		{"empty", "", []errdefs.FieldError{vFE("agentRuntimeName", msgNotNull)}},
		{"49 chars", "A" + strings.Repeat("b", 48), []errdefs.FieldError{
			vFE("agentRuntimeName", "Member must have length less than or equal to 48"),
			vFE("agentRuntimeName", pattern),
		}},
		{"hyphen", "my-agent", []errdefs.FieldError{vFE("agentRuntimeName", pattern)}},
		{"leading digit", "1agent", []errdefs.FieldError{vFE("agentRuntimeName", pattern)}},
		{"leading underscore", "_agent", []errdefs.FieldError{vFE("agentRuntimeName", pattern)}},
		{"unicode letter", "agént", []errdefs.FieldError{vFE("agentRuntimeName", pattern)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := vFieldErrors(t, ValidateCreateRuntime(tc.in, vMinimalConfig(), nil, nil))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("field errors (-want +got):\n%s", diff)
			}
		})
	}
}
