package catalog

import (
	"strings"
	"testing"
)

func TestRandomSuffix_Alphabet(t *testing.T) {
	seen := make(map[rune]bool)
	for range 2000 {
		s := RandomSuffix(10)
		if len(s) != 10 {
			t.Fatalf("RandomSuffix(10) = %q, length %d", s, len(s))
		}
		for _, c := range s {
			if !strings.ContainsRune(idAlphabet, c) {
				t.Fatalf("RandomSuffix produced %q outside [a-zA-Z0-9]", c)
			}
			seen[c] = true
		}
	}
	// 20,000 draws from 62 symbols miss one with probability below 1e-130.
	if len(seen) != len(idAlphabet) {
		t.Errorf("RandomSuffix used %d of %d symbols", len(seen), len(idAlphabet))
	}
	if got := RandomSuffix(0); got != "" {
		t.Errorf("RandomSuffix(0) = %q", got)
	}
}

func TestNewRuntimeID_Shape(t *testing.T) {
	for _, name := range []string{"a", "my_agent", "A" + strings.Repeat("b", 47)} {
		t.Run(name, func(t *testing.T) {
			id := NewRuntimeID(name)
			if !strings.HasPrefix(id, name+"-") || len(id) != len(name)+11 {
				t.Errorf("NewRuntimeID(%q) = %q", name, id)
			}
			if !ValidRuntimeID(id) {
				t.Errorf("NewRuntimeID(%q) = %q fails ValidRuntimeID", name, id)
			}
			if a, b := NewRuntimeID(name), NewRuntimeID(name); a == b {
				t.Errorf("two ids are equal: %q", a)
			}
			if ep := NewEndpointID(name); !ValidRuntimeID(ep) || !strings.HasPrefix(ep, name+"-") {
				t.Errorf("NewEndpointID(%q) = %q", name, ep)
			}
		})
	}
}

func TestValidRuntimeID_Rules(t *testing.T) {
	cases := []struct {
		id   string
		want bool
	}{
		{"my_agent-Ab12Cd34Ef", true},
		{"a-0123456789", true},
		{strings.Repeat("a", 100) + "-0123456789", true},
		{strings.Repeat("a", 101) + "-0123456789", false},
		{"my_agent-Ab12Cd34E", false},
		{"my_agent-Ab12Cd34Efg", false},
		{"my_agent-Ab12Cd34E_", false},
		{"1agent-0123456789", false},
		{"-0123456789", false},
		{"my-agent-0123456789", false},
		{"my_agent-0123456789\n", false},
	}
	for _, tc := range cases {
		if got := ValidRuntimeID(tc.id); got != tc.want {
			t.Errorf("ValidRuntimeID(%q) = %v, want %v", tc.id, got, tc.want)
		}
	}
}

func TestValidName_Rules(t *testing.T) {
	cases := []struct {
		name string
		want bool
	}{
		{"a", true},
		{"DEFAULT", true},
		{"my_agent_2", true},
		{"A" + strings.Repeat("b", 47), true},
		{"A" + strings.Repeat("b", 48), false},
		{"", false},
		{"_a", false},
		{"2a", false},
		{"my-agent", false},
		{"agent\n", false},
	}
	for _, tc := range cases {
		if got := ValidName(tc.name); got != tc.want {
			t.Errorf("ValidName(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}
