package catalog

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"berth.dev/berth/internal/errdefs"
)

// Messages, worded as AWS's own validation layer words them. Constraints on a map's keys
// say "Map key" where AWS says "Member".
const (
	msgNotNull = "Member must not be null"
	subjMember = "Member"
	subjKey    = "Map key"
)

// Patterns shared by several request shapes.
var (
	patClientToken = regexp.MustCompile(`^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,256}$`)
	patTag         = regexp.MustCompile(`^[a-zA-Z0-9\s._:/=+@-]*$`)
	patNextToken   = regexp.MustCompile(`^\S*$`)
)

// fieldRules records violated constraints into an errdefs.Fields. Its methods name the wire
// member they check and never stop at the first violation.
type fieldRules struct{ f *errdefs.Fields }

// required reports a missing required string and returns whether s is set.
func (r fieldRules) required(name, s string) bool {
	if s == "" {
		r.f.Add(name, msgNotNull)
		return false
	}
	return true
}

// notNull reports a missing required member and returns whether it is set.
func (r fieldRules) notNull(name string, set bool) bool {
	if !set {
		r.f.Add(name, msgNotNull)
	}
	return set
}

// length checks a string's length in Unicode code points, as AWS counts; maxLen < 0 means
// unbounded.
func (r fieldRules) length(name, s string, minLen, maxLen int) {
	r.sized(subjMember, name, utf8.RuneCountInString(s), minLen, maxLen)
}

// count checks the number of items of a list or entries of a map (AWS calls both length).
func (r fieldRules) count(name string, n, minLen, maxLen int) {
	r.sized(subjMember, name, n, minLen, maxLen)
}

func (r fieldRules) sized(subject, name string, n, minLen, maxLen int) {
	if n < minLen {
		r.f.Add(name, "%s must have length greater than or equal to %d", subject, minLen)
	}
	if maxLen >= 0 && n > maxLen {
		r.f.Add(name, "%s must have length less than or equal to %d", subject, maxLen)
	}
}

// pattern checks s against re; the message quotes the pattern's source.
func (r fieldRules) pattern(name, s string, re *regexp.Regexp) {
	r.matches(subjMember, name, s, re)
}

func (r fieldRules) matches(subject, name, s string, re *regexp.Regexp) {
	if !re.MatchString(s) {
		r.f.Add(name, "%s must satisfy regular expression pattern: %s", subject, re.String())
	}
}

// key checks a map key's length and, when re is not nil, its pattern. Errors name the entry.
func (r fieldRules) key(name, k string, minLen, maxLen int, re *regexp.Regexp) {
	r.sized(subjKey, name, utf8.RuneCountInString(k), minLen, maxLen)
	if re != nil {
		r.matches(subjKey, name, k, re)
	}
}

// oneOf checks that s is one of the enum values.
func (r fieldRules) oneOf(name, s string, values ...string) {
	if !slices.Contains(values, s) {
		r.f.Add(name, "Member must be one of [%s]", strings.Join(values, ", "))
	}
}

// between checks an integer against an inclusive range.
func (r fieldRules) between(name string, v, lo, hi int64) bool {
	if v < lo || v > hi {
		r.f.Add(name, "Member must have value between %d and %d", lo, hi)
		return false
	}
	return true
}

// union checks that exactly one member of a union is set. members and set are parallel.
func (r fieldRules) union(name string, members []string, set ...bool) {
	var got []string
	for i, ok := range set {
		if ok {
			got = append(got, members[i])
		}
	}
	switch len(got) {
	case 1:
	case 0:
		r.f.Add(name, "Member must have exactly one of [%s] set, but none was set",
			strings.Join(members, ", "))
	default:
		r.f.Add(name, "Member must have exactly one of [%s] set, but %d were set: %s",
			strings.Join(members, ", "), len(got), strings.Join(got, ", "))
	}
}

// fieldMember joins a parent path and a member name.
func fieldMember(parent, name string) string { return parent + "." + name }

// fieldItem names the i-th element of a list.
func fieldItem(list string, i int) string { return list + "[" + strconv.Itoa(i) + "]" }

// fieldEntry names the entry of a map under key.
func fieldEntry(m, key string) string { return m + "[" + key + "]" }

// sortedFieldKeys returns m's keys in order, so that errors come out deterministically.
func sortedFieldKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ValidateClientToken checks an idempotency token (AGENTCORE-WIRE.md §1.5): 33–256
// characters matching ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,256}$. A nil token is fine (the SDKs
// fill one in; raw callers may omit it).
func ValidateClientToken(field string, token *string, f *errdefs.Fields) {
	if token == nil {
		return
	}
	r := fieldRules{f}
	r.length(field, *token, 33, 256)
	r.pattern(field, *token, patClientToken)
}

// tags checks a resource's tags: ≤ 50 entries, key 1–128, value 0–256, both
// matching ^[a-zA-Z0-9\s._:/=+@-]*$.
func (r fieldRules) tags(name string, tags map[string]string) {
	r.count(name, len(tags), 0, 50)
	for _, k := range sortedFieldKeys(tags) {
		at := fieldEntry(name, k)
		r.key(at, k, 1, 128, patTag)
		r.length(at, tags[k], 0, 256)
		r.pattern(at, tags[k], patTag)
	}
}

// ValidatePagination checks the query parameters of the runtime list operations
// (AGENTCORE-WIRE.md §1.8): maxResults 1–100 and nextToken 1–2048 matching ^\S*$.
func ValidatePagination(maxResults *int, nextToken *string) error {
	var f errdefs.Fields
	r := fieldRules{&f}
	if maxResults != nil {
		r.between("maxResults", int64(*maxResults), 1, 100)
	}
	if nextToken != nil {
		r.length("nextToken", *nextToken, 1, 2048)
		r.pattern("nextToken", *nextToken, patNextToken)
	}
	return f.Err()
}
