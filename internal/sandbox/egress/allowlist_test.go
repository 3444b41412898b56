package egress_test

import (
	"errors"
	"strings"
	"testing"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/sandbox/egress"
)

func TestAllowlist_Allows(t *testing.T) {
	a, err := egress.ParseAllowlist([]string{"api.example.com", "*.svc.example.org", "PyPI.org"})
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]bool{
		"api.example.com":        true,
		"API.Example.COM.":       true,
		"pypi.org":               true,
		"x.svc.example.org":      true,
		"a.b.svc.example.org":    true,
		"svc.example.org":        false, // a wildcard covers names below, not the name itself
		"example.com":            false,
		"evil-api.example.com":   false,
		"api.example.com.evil":   false,
		"xsvc.example.org":       false,
		"files.pypi.org":         false,
		"":                       false,
		"*.svc.example.org":      false,
		"10.0.0.1":               false,
		"api.example.com:443":    false,
		"api.example.com\x00.io": false,
	} {
		if got := a.Allows(host); got != want {
			t.Errorf("Allows(%q) = %v, want %v", host, got, want)
		}
	}
	var zero *egress.Allowlist
	if zero.Allows("api.example.com") {
		t.Error("a nil Allowlist allows")
	}
}

func TestParseAllowlist_Invalid(t *testing.T) {
	for _, tc := range []struct {
		domains []string
		want    string
	}{
		{nil, "no domains"},
		{[]string{"localhost"}, "at least two labels"},
		{[]string{"10.0.0.1"}, "must not be numeric"},
		{[]string{"*"}, "wildcard"},
		{[]string{"a.*.example.com"}, "wildcard"},
		{[]string{"*.*.example.com"}, "wildcard"},
		{[]string{"https://example.com"}, "letters, digits and hyphens"},
		{[]string{"example.com:443"}, "letters, digits and hyphens"},
		{[]string{"-a.example.com"}, "hyphen"},
		{[]string{"a..example.com"}, "1 to 63"},
		{[]string{"example.com."}, "1 to 63"},
		{[]string{strings.Repeat("a", 64) + ".com"}, "1 to 63"},
		{[]string{strings.Repeat("a.", 127) + "com"}, "longer than 253"},
		{[]string{"ok.example.com", "bad_name.example.com"}, `"bad_name.example.com"`},
		{make([]string, egress.MaxAllowlist+1), "at most"},
	} {
		_, err := egress.ParseAllowlist(tc.domains)
		if err == nil || !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseAllowlist(%.40q) = %v, want an invalid-argument error mentioning %q", tc.domains, err, tc.want)
		}
	}
}
