package egress

import (
	"fmt"
	"strings"

	"berth.dev/berth/internal/errdefs"
)

// MaxAllowlist is the most domains one ALLOWLIST policy may name.
const MaxAllowlist = 256

// Allowlist is a parsed list of domains a sandbox in ALLOWLIST mode may reach. An entry is
// either an exact name ("api.example.com", matching only that name) or a wildcard
// ("*.example.com", matching every name below example.com but not example.com itself).
// Matching ignores case and one trailing dot. The zero value allows nothing.
type Allowlist struct {
	exact    map[string]struct{}
	suffixes []string // ".example.com" for "*.example.com"
}

// ParseAllowlist checks and parses domains (see Allowlist). Every entry must be a DNS name
// of at least two labels, each 1–63 letters, digits or hyphens not starting or ending with
// a hyphen, 253 characters at most in all, whose last label is not numeric (so no IP
// literals); "*." may precede it. The error names every bad entry and wraps
// errdefs.ErrInvalidArgument.
func ParseAllowlist(domains []string) (*Allowlist, error) {
	if len(domains) == 0 {
		return nil, fmt.Errorf("egress allowlist: %w: no domains", errdefs.ErrInvalidArgument)
	}
	if len(domains) > MaxAllowlist {
		return nil, fmt.Errorf("egress allowlist: %w: %d domains, at most %d", errdefs.ErrInvalidArgument, len(domains), MaxAllowlist)
	}
	a := &Allowlist{exact: map[string]struct{}{}}
	var bad []string
	for _, d := range domains {
		if err := CheckDomainPattern(d); err != nil {
			bad = append(bad, err.Error())
			continue
		}
		d = strings.ToLower(d)
		if rest, ok := strings.CutPrefix(d, "*."); ok {
			a.suffixes = append(a.suffixes, "."+rest)
		} else {
			a.exact[d] = struct{}{}
		}
	}
	if bad != nil {
		return nil, fmt.Errorf("egress allowlist: %w: %s", errdefs.ErrInvalidArgument, strings.Join(bad, "; "))
	}
	return a, nil
}

// Allows reports whether host (a DNS name, without port) is on the list.
func (a *Allowlist) Allows(host string) bool {
	if a == nil {
		return false
	}
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if CheckDomainPattern(h) != nil || strings.HasPrefix(h, "*.") {
		return false
	}
	if _, ok := a.exact[h]; ok {
		return true
	}
	for _, s := range a.suffixes {
		if strings.HasSuffix(h, s) {
			return true
		}
	}
	return false
}

// CheckDomainPattern reports why d is not a valid allowlist entry (see ParseAllowlist), or
// nil.
func CheckDomainPattern(d string) error {
	name := strings.TrimPrefix(d, "*.")
	switch {
	case name == "":
		return fmt.Errorf("%q is empty", d)
	case len(name) > 253:
		return fmt.Errorf("%q is longer than 253 characters", d)
	case strings.Contains(name, "*"):
		return fmt.Errorf("%q: a wildcard may only be a leading \"*.\"", d)
	}
	labels := strings.Split(name, ".")
	if len(labels) < 2 {
		return fmt.Errorf("%q must have at least two labels (like example.com)", d)
	}
	for _, l := range labels {
		if err := checkLabel(l); err != nil {
			return fmt.Errorf("%q: %w", d, err)
		}
	}
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return fmt.Errorf("%q: the last label must not be numeric (IP addresses are not allowed)", d)
	}
	return nil
}

func checkLabel(l string) error {
	if l == "" || len(l) > 63 {
		return fmt.Errorf("label %q must be 1 to 63 characters", l)
	}
	if l[0] == '-' || l[len(l)-1] == '-' {
		return fmt.Errorf("label %q must not start or end with a hyphen", l)
	}
	for i := range len(l) {
		if !isLDH(l[i]) {
			return fmt.Errorf("label %q may contain only letters, digits and hyphens", l)
		}
	}
	return nil
}

// isLDH reports whether c may appear in a host name label: a letter, digit or hyphen.
func isLDH(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-'
}
