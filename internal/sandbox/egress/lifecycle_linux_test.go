package egress_test

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/sandbox/egress"
)

// hostState is what the Manager may change on the host.
type hostState struct {
	links     []string // host-side veths with the test prefix
	table     bool     // the test table exists
	ipForward string
	netnsFDs  int // descriptors of this process that hold a network namespace
}

func readHostState(t testing.TB) hostState {
	t.Helper()
	var s hostState
	links, err := netlink.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range links {
		if strings.HasPrefix(l.Attrs().Name, testIface) {
			s.links = append(s.links, l.Attrs().Name)
		}
	}
	c, err := nftables.New()
	if err != nil {
		t.Fatal(err)
	}
	tables, err := c.ListTablesOfFamily(nftables.TableFamilyINet)
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range tables {
		s.table = s.table || tb.Name == testTable
	}
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	if err != nil {
		t.Fatal(err)
	}
	s.ipForward = string(bytes.TrimSpace(b))
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		if target, err := os.Readlink("/proc/self/fd/" + fd.Name()); err == nil && strings.HasPrefix(target, "net:[") {
			s.netnsFDs++
		}
	}
	return s
}

func TestManager_Close_LeavesNothingBehind(t *testing.T) {
	requireRoot(t)
	checkLeaks(t)
	before := readHostState(t)
	if len(before.links) > 0 || before.table {
		t.Fatalf("leftovers before the test: %+v", before)
	}
	m, err := egress.New(t.Context(), egress.Config{Tag: testTag, Subnet: testSubnet, PoolSize: 3}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	var nets []*egress.Network
	for _, p := range []sandbox.NetworkPolicy{
		{Mode: sandbox.NetworkPublic}, {Mode: sandbox.NetworkPublic}, {Mode: sandbox.NetworkNone},
		{Mode: sandbox.NetworkAllowlist, AllowedDomains: []string{"example.com"}},
	} {
		n, err := m.Prepare(t.Context(), "s", p)
		if err != nil {
			t.Fatal(err)
		}
		nets = append(nets, n)
	}
	during := readHostState(t)
	if len(during.links) < 2 || !during.table || during.ipForward != "1" {
		t.Fatalf("while running: %+v; want veths, the table and forwarding on", during)
	}
	if err := nets[0].Close(); err != nil { // one closed by its sandbox, the rest by Close
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	for _, n := range nets {
		if n.NS().Fd() != -1 {
			t.Errorf("the %s namespace is still open after Close", n.Mode())
		}
	}
	after := readHostState(t)
	if after.ipForward != before.ipForward && othersHoldForwarding(t) {
		after.ipForward = before.ipForward // another process's Manager runs: it keeps forwarding on
	}
	if len(after.links) > 0 || after.table || after.ipForward != before.ipForward || after.netnsFDs != before.netnsFDs {
		t.Fatalf("after Close: %+v; before: %+v", after, before)
	}
	if _, err := m.Prepare(t.Context(), "late", sandbox.NetworkPolicy{}); !errors.Is(err, egress.ErrClosed) {
		t.Fatalf("Prepare after Close: %v, want ErrClosed", err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestNew_RemovesWhatACrashedBerthLeft(t *testing.T) {
	requireRoot(t)
	checkLeaks(t)
	// A veth named like one of the Manager's, and its table with a chain of the wrong name.
	stale := testIface + "ff"
	if err := netlink.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: stale}, PeerName: "egt-stalepeer"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteLink(t, stale) })
	c, err := nftables.New()
	if err != nil {
		t.Fatal(err)
	}
	tb := c.AddTable(&nftables.Table{Family: nftables.TableFamilyINet, Name: testTable})
	c.AddChain(&nftables.Chain{Name: "stale", Table: tb})
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}

	m := newManager(t, egress.Config{PoolSize: -1})
	if err := m.Available(sandbox.NetworkPublic); err != nil {
		t.Fatal(err)
	}
	if _, err := netlink.LinkByName(stale); err == nil {
		t.Fatal("the stale veth survived New")
	}
	chains, err := c.ListChainsOfTableFamily(nftables.TableFamilyINet)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ch := range chains {
		if ch.Table.Name == testTable {
			names = append(names, ch.Name)
		}
	}
	if strings.Contains(strings.Join(names, ","), "stale") || len(names) == 0 {
		t.Fatalf("chains after New = %v, want only the Manager's", names)
	}
}

func TestManager_Prepare_None(t *testing.T) {
	requireRoot(t)
	checkLeaks(t)
	m := newManager(t, egress.Config{PoolSize: -1})
	for _, mode := range []sandbox.NetworkMode{sandbox.NetworkNone, ""} {
		n := prepare(t, m, "none", sandbox.NetworkPolicy{Mode: mode})
		if n.Mode() != sandbox.NetworkNone || n.Env() != nil || n.Addr().IsValid() {
			t.Fatalf("mode %q: got %s, env %v, addr %v", mode, n.Mode(), n.Env(), n.Addr())
		}
		var ifaces []string
		if err := n.NS().Do(func() error {
			links, err := netlink.LinkList()
			for _, l := range links {
				ifaces = append(ifaces, l.Attrs().Name)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if strings.Join(ifaces, ",") != "lo" {
			t.Fatalf("interfaces = %v, want only lo", ifaces)
		}
	}
}

func TestManager_Prepare_Invalid(t *testing.T) {
	requireRoot(t)
	checkLeaks(t)
	m := newManager(t, egress.Config{PoolSize: -1})
	for _, p := range []sandbox.NetworkPolicy{
		{Mode: "VPC"},
		{Mode: sandbox.NetworkAllowlist},
		{Mode: sandbox.NetworkAllowlist, AllowedDomains: []string{"10.0.0.1"}},
	} {
		if n, err := m.Prepare(t.Context(), "bad", p); err == nil {
			_ = n.Close()
			t.Errorf("Prepare(%+v) succeeded", p)
		}
	}
	if err := m.Available("VPC"); err == nil {
		t.Error("Available(VPC) = nil")
	}
}

// othersHoldForwarding reports whether a Manager outside this test (another test binary
// running at the same time) holds IPv4 forwarding.
func othersHoldForwarding(t testing.TB) bool {
	t.Helper()
	f, err := os.OpenFile("/run/berth/egress-forwarding.holders", os.O_RDONLY, 0)
	if err != nil {
		return false
	}
	defer func() { _ = f.Close() }()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		return true
	}
	_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
	return false
}

func TestManager_Close_ForwardingStaysOnForOtherManagers(t *testing.T) {
	requireRoot(t)
	checkLeaks(t)
	newWorld(t)
	before := readHostState(t).ipForward
	m1 := newManager(t, egress.Config{PoolSize: -1})
	// A second Manager, as another Berth on the host would be (its locks are its own).
	m2, err := egress.New(t.Context(), egress.Config{Tag: "u", Subnet: netip.MustParsePrefix("10.238.0.0/24"),
		PoolSize: -1, Resolvers: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:9")}}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m2.Close() })
	n2, err := m2.Prepare(t.Context(), "second", public)
	if err != nil {
		t.Fatal(err)
	}
	if err := m1.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readHostState(t).ipForward; got != "1" {
		t.Fatalf("ip_forward = %s after the first of two Managers closed", got)
	}
	if code, body, err := httpGet(t.Context(), n2.NS().Dial, "http://198.51.100.10/"); err != nil || code != 200 {
		t.Fatalf("the second Manager's sandbox lost the internet: %d %q %v", code, body, err)
	}
	if err := m2.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readHostState(t).ipForward; got != before && !othersHoldForwarding(t) {
		t.Fatalf("ip_forward = %s after both Managers closed, want %s as before", got, before)
	}
}

func TestNew_PublicUnavailable_OtherModesWork(t *testing.T) {
	requireRoot(t)
	checkLeaks(t)
	// No resolvers can be read, so PUBLIC (whose DNS forwarder needs them) cannot start.
	m, err := egress.New(t.Context(), egress.Config{Tag: testTag, Subnet: testSubnet,
		ResolvConf: t.TempDir() + "/missing"}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := m.Close(); err != nil {
			t.Error(err)
		}
	}()
	if err := m.Available(sandbox.NetworkPublic); err == nil {
		t.Fatal("Available(PUBLIC) = nil without resolvers")
	}
	if _, err := m.Prepare(t.Context(), "p", public); !errors.Is(err, errdefs.ErrUnavailable) {
		t.Fatalf("Prepare(PUBLIC) = %v, want ErrUnavailable", err)
	}
	if s := readHostState(t); s.table || len(s.links) > 0 {
		t.Fatalf("a Manager without PUBLIC changed the host: %+v", s)
	}
	for _, mode := range []sandbox.NetworkMode{sandbox.NetworkNone, sandbox.NetworkAllowlist} {
		if err := m.Available(mode); err != nil {
			t.Fatalf("Available(%s) = %v", mode, err)
		}
	}
	n := prepare(t, m, "n", sandbox.NetworkPolicy{Mode: sandbox.NetworkAllowlist, AllowedDomains: []string{"example.com"}})
	if len(n.Env()) == 0 {
		t.Fatal("ALLOWLIST network without proxy environment")
	}
}

// TestNew_RefusesATagInUse: a second live Manager with the same Tag would delete the first
// one's veths as a crashed Berth's and hand out the same names, so New refuses it with a
// conflict naming the settings to change; once the first Manager closed, the tag is free.
func TestNew_RefusesATagInUse(t *testing.T) {
	requireRoot(t)
	checkLeaks(t)
	first, err := egress.New(t.Context(), egress.Config{Tag: testTag, Subnet: testSubnet, PoolSize: -1,
		Resolvers: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:9")}}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	n, err := first.Prepare(t.Context(), "first", public)
	if err != nil {
		t.Fatal(err)
	}
	second, err := egress.New(t.Context(), egress.Config{Tag: testTag, Subnet: netip.MustParsePrefix("10.238.0.0/24"), PoolSize: -1,
		Resolvers: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:9")}}, testLogger(t))
	if err == nil {
		_ = second.Close()
		t.Fatal("a second Manager with the same tag started")
	}
	if !errors.Is(err, errdefs.ErrConflict) || !strings.Contains(err.Error(), "--egress-tag") {
		t.Errorf("err = %v, want a conflict naming --egress-tag", err)
	}
	// The refused Manager touched nothing of the first one's.
	if len(readHostState(t).links) == 0 {
		t.Error("the first Manager's veth is gone")
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	third := newManager(t, egress.Config{PoolSize: -1})
	if err := third.Available(sandbox.NetworkPublic); err != nil {
		t.Errorf("a Manager with the tag after the first closed: %v", err)
	}
}
