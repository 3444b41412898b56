package cli

import (
	"testing"
	"time"
)

func TestDiffTree(t *testing.T) {
	t0 := time.Unix(100, 0)
	old := map[string]fileStamp{"a.py": {t0, 1}, "b.py": {t0, 2}}
	for _, tc := range []struct {
		name string
		now  map[string]fileStamp
		want string
	}{
		{"same", map[string]fileStamp{"a.py": {t0, 1}, "b.py": {t0, 2}}, ""},
		{"touched", map[string]fileStamp{"a.py": {t0.Add(time.Nanosecond), 1}, "b.py": {t0, 2}}, "a.py"},
		{"resized", map[string]fileStamp{"a.py": {t0, 1}, "b.py": {t0, 3}}, "b.py"},
		{"added", map[string]fileStamp{"a.py": {t0, 1}, "b.py": {t0, 2}, "c.py": {t0, 0}}, "c.py"},
		{"removed", map[string]fileStamp{"a.py": {t0, 1}}, "b.py"},
	} {
		if got := diffTree(old, tc.now); got != tc.want {
			t.Errorf("%s: diffTree = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestToolError(t *testing.T) {
	out := []byte("npm notice x\nnpm error code E404\nnpm error 404 Not Found - GET https://r/x\nnpm error A complete log of this run can be found in: /l\n")
	if got := toolError(out, "npm error", nil); got != "npm error 404 Not Found - GET https://r/x" {
		t.Errorf("npm: %q", got)
	}
	if got := toolError([]byte("Collecting x\n\nsomething broke\n"), "ERROR:", nil); got != "something broke" {
		t.Errorf("no prefixed line: %q", got)
	}
}
