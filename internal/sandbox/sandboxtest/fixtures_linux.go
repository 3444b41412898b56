package sandboxtest

import (
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/sandbox/egress"
)

// ImageRoot builds an image-like root filesystem for driver tests: agentBin at /agent, /srv
// and /tmp writable by everyone (as in testagent.Image), and the host's dash with its C
// library as /bin/sh for Exec.
func ImageRoot(t testing.TB, agentBin string) string {
	t.Helper()
	root := t.TempDir()
	if err := os.Chmod(root, 0o755); err != nil { //nolint:gosec // G302: the sandbox user must enter the tree
		t.Fatal(err)
	}
	for _, dir := range []string{"srv", "tmp", "bin", "lib/x86_64-linux-gnu", "lib64"} {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, dir := range []string{"srv", "tmp"} {
		if err := os.Chmod(filepath.Join(root, dir), 0o1777); err != nil { //nolint:gosec // G302: writable by the sandbox user, like /tmp
			t.Fatal(err)
		}
	}
	files := map[string]string{
		"agent":                          agentBin,
		"bin/sh":                         "/bin/sh",
		"lib/x86_64-linux-gnu/libc.so.6": "/lib/x86_64-linux-gnu/libc.so.6",
		"lib64/ld-linux-x86-64.so.2":     "/lib64/ld-linux-x86-64.so.2",
	}
	for dst, src := range files {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, dst), b, 0o755); err != nil { //nolint:gosec // G703: dst is one of the fixed names above
			t.Fatal(err)
		}
	}
	return root
}

// EgressProvider starts the egress manager Berth uses, for a driver test that runs the
// PUBLIC isolation cases, and closes it at cleanup. tag and subnet must be unique among the
// tests that may run at once on this host. It keeps no pool (background refills would look
// like leaked goroutines to the suite) and relays DNS nowhere real. It skips the test when
// not root.
func EgressProvider(t *testing.T, tag, subnet string) sandbox.NetworkProvider {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("egress needs root")
	}
	m, err := egress.New(t.Context(), egress.Config{
		Tag:       tag,
		Subnet:    netip.MustParsePrefix(subnet),
		PoolSize:  -1,
		Resolvers: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:9")},
	}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m.Provider()
}
