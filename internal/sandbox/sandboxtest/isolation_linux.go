package sandboxtest

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/test/testagent"
)

// markEnv is the environment variable that carries a sandbox's mark: a random value the
// suite gives each sandbox, so that the host can find the sandbox's processes in /proc and
// a sandbox's view of /proc can be checked for another's.
const markEnv = "SBXTEST_MARK"

// RunIsolation runs the isolation suite against d: real attempts, made by the test agent
// from inside sandboxes (the "probe" operations of test/agent), to reach what a session
// must never reach — another session's files, processes and ports, the host's services and
// the cloud metadata address, networks its egress policy forbids, the shared base image,
// root privileges, and more than its share of memory, pids and disk — and a check that
// nothing of a session survives it. Subtests run one after another; each stops every
// sandbox it started.
//
// It skips, saying why, for drivers whose Capabilities().Isolation is "none" (they
// isolate nothing to test) and when not run as root (it builds network namespaces, veth
// pairs and setuid-root binaries). The egress cases for PUBLIC run only when the driver
// offers PUBLIC.
//
// Options.Spec is given an agent binary in a directory of its own, next to a setuid-root
// copy of it named "suid-agent": a Spec that ships the agent's directory (as a code zip
// does with CodeDir) lets the privilege case run that copy too. The base-image cases use
// Options.ImageSpec; the exhaustion cases Options.Limits; the leftover checks
// Options.StateDir. Run does not call RunIsolation: a driver's test calls both.
//
// What the suite cannot see, stated honestly: a sandbox's host processes are found by the
// mark in their environment, so for drivers whose agents are not host processes (gVisor's
// sentry, a VM) the attempts on another session's host pids and /proc/<pid>/root are not
// made; "host disk untouched" is checked exactly on the state directory and only roughly
// (a 128 MiB margin for other writers) on the file systems of the state directory, the
// temporary directory and /; the test hosts are IPv4 only; the metadata case targets a
// real metadata service when the host reaches one at 169.254.169.254:80, otherwise a test
// host it creates there.
func RunIsolation(t *testing.T, d sandbox.Driver, opts Options) {
	if opts.Skip != "" {
		t.Skip(opts.Skip)
	}
	if iso := d.Capabilities().Isolation; iso == "none" {
		t.Skipf("driver %s isolates nothing (Capabilities().Isolation is %q): isolation suite skipped", d.Name(), iso)
	}
	if os.Geteuid() != 0 {
		t.Skip("the isolation suite needs root: it builds network namespaces, veth pairs and setuid-root binaries")
	}
	if opts.Spec == nil {
		t.Fatal("sandboxtest: Options.Spec is nil")
	}
	if err := d.Available(); err != nil {
		t.Fatalf("driver %s is not available (set Options.Skip to skip): %v", d.Name(), err)
	}
	agent := agentDir(t, testagent.Binary(t))
	for _, tc := range []struct {
		name string
		fn   func(*harness)
	}{
		{"Files/OtherSession", testOtherSessionFiles},
		{"Processes/OtherSession", testOtherSessionProcs},
		{"Network/OtherSessionPorts", testOtherSessionPorts},
		{"Network/HostServices", testHostServices},
		{"Network/Metadata", testMetadata},
		{"Network/EgressPolicy", testEgressPolicy},
		{"BaseImage/Unchanged", testBaseImage},
		{"Privileges/Spec", testEscalationSpec},
		{"Privileges/Image", testEscalationImage},
		{"Exhaust/Memory", testExhaustMemory},
		{"Exhaust/Pids", testExhaustPids},
		{"Exhaust/Disk", testExhaustDisk},
		{"Leftovers/SameIDStartsClean", testLeftovers},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, d, opts)
			h.agentBin = agent
			tc.fn(h)
		})
	}
}

// marked is a sandbox started with a mark (markEnv).
type marked struct {
	*started
	mark string
}

// startMarked starts a sandbox of spec (Options.Spec's when spec.ID is "") with a fresh
// mark, and waits until it answers.
func (h *harness) startMarked(spec sandbox.Spec) *marked {
	h.t.Helper()
	if spec.ID == "" {
		spec = h.spec()
	}
	m := "mark-" + newTag()
	spec.Env = append(spec.Env[:len(spec.Env):len(spec.Env)], markEnv+"="+m)
	s := h.startSpec(spec)
	h.ready(s)
	return &marked{started: s, mark: m}
}

// hostPIDs returns the host pids of every process whose environment holds mark: the
// sandbox's processes, for drivers that run them as host processes (not under gVisor's
// sentry or in a VM, where the result is empty).
func hostPIDs(mark string) []int {
	des, _ := os.ReadDir("/proc")
	want := []byte(markEnv + "=" + mark + "\x00")
	var pids []int
	for _, de := range des {
		pid, err := strconv.Atoi(de.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", de.Name(), "environ"))
		if err == nil && bytes.Contains(append([]byte{0}, env...), append([]byte{0}, want...)) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// mountsMentioning returns the lines of the host's /proc/self/mountinfo that contain s.
func mountsMentioning(t *testing.T, s string) []string {
	t.Helper()
	raw, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for line := range strings.Lines(string(raw)) {
		if strings.Contains(line, s) {
			out = append(out, strings.TrimSpace(line))
		}
	}
	return out
}

// newTag returns a short random lower-case tag for names.
func newTag() string {
	return strings.ToLower(rand.Text()[:10])
}

// limits returns Options.Limits with the defaults filled in.
func (h *harness) limits() sandbox.Limits {
	l := h.opts.Limits
	if l.MemoryBytes == 0 {
		l.MemoryBytes = 256 << 20
	}
	if l.Pids == 0 {
		l.Pids = 64
	}
	if l.DiskBytes == 0 {
		l.DiskBytes = 64 << 20
	}
	return l
}
