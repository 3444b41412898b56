package image

import (
	"fmt"
	"strconv"
	"strings"

	"berth.dev/berth/internal/errdefs"
)

// Languages of the managed code-zip runtimes.
const (
	langPython = "python"
	langNode   = "node"
)

// codeRuntime is a codeConfiguration.runtime taken apart: the language and the version it
// asks for. Python runtimes fix the major version (3) and name a minor; Node runtimes name a
// major only (minor is 0 and ignored).
type codeRuntime struct {
	name  string // "PYTHON_3_12"
	lang  string // langPython or langNode
	major int
	minor int
}

// codeRuntimes are the runtimes a codeConfiguration may name (AGENTCORE-WIRE.md §3.2; the
// same list catalog validates against).
var codeRuntimes = map[string]codeRuntime{
	"PYTHON_3_10": {"PYTHON_3_10", langPython, 3, 10},
	"PYTHON_3_11": {"PYTHON_3_11", langPython, 3, 11},
	"PYTHON_3_12": {"PYTHON_3_12", langPython, 3, 12},
	"PYTHON_3_13": {"PYTHON_3_13", langPython, 3, 13},
	"PYTHON_3_14": {"PYTHON_3_14", langPython, 3, 14},
	"NODE_18":     {"NODE_18", langNode, 18, 0},
	"NODE_20":     {"NODE_20", langNode, 20, 0},
	"NODE_22":     {"NODE_22", langNode, 22, 0},
}

// parseRuntime looks up a codeConfiguration.runtime; an unknown one is ErrInvalidArgument.
func parseRuntime(name string) (codeRuntime, error) {
	rt, ok := codeRuntimes[name]
	if !ok {
		return codeRuntime{}, fail(errdefs.ErrInvalidArgument, nil, "unknown code runtime %q", name)
	}
	return rt, nil
}

// exactName is the interpreter binary named after exactly this version ("python3.12"), or
// "" when the language has none (Node installs a single "node").
func (r codeRuntime) exactName() string {
	if r.lang == langPython {
		return fmt.Sprintf("python%d.%d", r.major, r.minor)
	}
	return ""
}

// distance says how far an interpreter version is from the requested one: minor versions
// for Python (a different major is unusable: -1), major versions for Node.
func (r codeRuntime) distance(v version) int {
	switch r.lang {
	case langPython:
		if v.major != r.major {
			return -1
		}
		return abs(v.minor - r.minor)
	default:
		return abs(v.major - r.major)
	}
}

// nameDistance is how far the version a binary's name implies is from the requested one:
// for python3.N the minor distance, 0 for names that imply no version (python3, node).
func (r codeRuntime) nameDistance(name string) int {
	minor, ok := strings.CutPrefix(name, fmt.Sprintf("python%d.", r.major))
	if !ok || r.lang != langPython {
		return 0
	}
	n, err := strconv.Atoi(minor)
	if err != nil {
		return 0
	}
	return abs(n - r.minor)
}

// label names an interpreter version the way a person would look for it: "python3.11",
// "node 20".
func (r codeRuntime) label(v version) string {
	if r.lang == langPython {
		return fmt.Sprintf("python%d.%d", v.major, v.minor)
	}
	return fmt.Sprintf("node %d", v.major)
}

// version is a parsed "major.minor[.patch…]" interpreter version.
type version struct {
	major, minor int
	text         string // as the interpreter reported it
}

// parseVersion reads "3.11.2", "v20.20.2" or "3.13.0rc1"; only major and minor are kept.
func parseVersion(s string) (version, error) {
	s = strings.TrimSpace(s)
	text := strings.TrimPrefix(s, "v")
	parts := strings.SplitN(text, ".", 3)
	if len(parts) < 2 {
		return version{}, fmt.Errorf("parse interpreter version %q: want major.minor", s)
	}
	major, err := strconv.Atoi(parts[0])
	if err != nil {
		return version{}, fmt.Errorf("parse interpreter version %q: %w", s, err)
	}
	minor, err := strconv.Atoi(leadingDigits(parts[1]))
	if err != nil {
		return version{}, fmt.Errorf("parse interpreter version %q: %w", s, err)
	}
	return version{major: major, minor: minor, text: text}, nil
}

func leadingDigits(s string) string {
	for i, c := range s {
		if c < '0' || c > '9' {
			return s[:i]
		}
	}
	return s
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
