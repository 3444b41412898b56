package catalog

import (
	"crypto/rand"
	"regexp"
)

const idAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// RandomSuffix returns n characters drawn uniformly from [a-zA-Z0-9].
func RandomSuffix(n int) string {
	b := make([]byte, n)
	// rand.Read never returns an error (Go ≥ 1.24 crashes instead).
	_, _ = rand.Read(b)
	out := make([]byte, n)
	for i, v := range b {
		// 62 does not divide 256; rejection sampling keeps the distribution uniform.
		for v >= 248 {
			var one [1]byte
			_, _ = rand.Read(one[:])
			v = one[0]
		}
		out[i] = idAlphabet[int(v)%len(idAlphabet)]
	}
	return string(out)
}

// NewRuntimeID returns "{name}-{10 alphanumerics}".
func NewRuntimeID(name string) string { return name + "-" + RandomSuffix(10) }

// NewEndpointID returns "{endpointName}-{10 alphanumerics}".
func NewEndpointID(name string) string { return name + "-" + RandomSuffix(10) }

var (
	runtimeIDPattern = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]{0,99}-[a-zA-Z0-9]{10}$`)
	namePattern      = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]{0,47}$`)
)

// ValidRuntimeID reports whether id has the runtime id shape.
func ValidRuntimeID(id string) bool { return runtimeIDPattern.MatchString(id) }

// ValidName reports whether s is a valid runtime or endpoint name.
func ValidName(s string) bool { return namePattern.MatchString(s) }
