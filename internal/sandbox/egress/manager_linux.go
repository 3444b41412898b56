package egress

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"sync"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"berth.dev/berth/internal/errdefs"
	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/sandbox/netns"
)

// ErrClosed is returned by Prepare after Close.
var ErrClosed = errors.New("egress manager closed")

// Manager hands out the network namespace of each sandbox according to its NetworkPolicy.
// It owns one nftables table, the host-side veths of its PUBLIC namespaces and a pool of
// ready PUBLIC namespaces. Methods are safe for concurrent use.
type Manager struct {
	cfg       Config
	log       *slog.Logger
	slots     *slots
	resolvers []netip.AddrPort
	guard     addrGuard

	// PUBLIC support; publicErr says why it is unavailable (then nl is nil).
	publicErr error
	nl        *netlink.Handle // host namespace: veths, conntrack
	fwd       *forwardHold

	pool  *pool
	claim *os.File // claimTag's lock, released last by Close

	// inflight is held shared by every Prepare and exclusively by Close, so Close never
	// tears down what a Prepare is still building.
	inflight sync.RWMutex
	mu       sync.Mutex
	closed   bool
	live     map[*Network]struct{}
}

// New starts a Manager. It fails on an invalid configuration, and when another live Manager
// on the host holds the same Tag (claimTag). If PUBLIC egress cannot
// be set up here (not root, no nftables), New logs why and Available(NetworkPublic)
// returns it, while NONE and ALLOWLIST keep working. For PUBLIC it deletes veths and the
// table that a crashed Berth with the same Tag left, installs the ruleset, turns IPv4
// forwarding on if it is off (see the package doc), and starts the pool, which fills in
// the background from the first PUBLIC sandbox on.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*Manager, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	sl, err := newSlots(cfg.Subnet)
	if err != nil {
		return nil, fmt.Errorf("egress: %w", err)
	}
	claim, err := claimTag(cfg)
	if err != nil {
		return nil, err
	}
	m := &Manager{
		cfg: cfg, log: log, slots: sl, claim: claim,
		guard: addrGuard{blocked: cfg.blocked()},
		live:  map[*Network]struct{}{},
	}
	if m.publicErr = m.startPublic(ctx); m.publicErr != nil {
		log.Warn("egress: PUBLIC network mode unavailable", "err", m.publicErr)
		return m, nil
	}
	m.pool = startPool(m, cfg.PoolSize)
	return m, nil
}

// startPublic prepares the host for PUBLIC namespaces.
func (m *Manager) startPublic(ctx context.Context) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := netns.Available(); err != nil {
		return err
	}
	m.resolvers = m.cfg.Resolvers
	if len(m.resolvers) == 0 {
		if m.resolvers, err = readResolvers(m.cfg.ResolvConf); err != nil {
			return err
		}
	}
	if m.nl, err = netlink.NewHandle(unix.NETLINK_ROUTE, unix.NETLINK_NETFILTER); err != nil {
		return fmt.Errorf("netlink: %w", err)
	}
	defer func() {
		if err != nil {
			m.nl.Close()
			m.nl = nil
		}
	}()
	if err := m.deleteStaleLinks(); err != nil {
		return err
	}
	rs := ruleset{table: m.cfg.table(), subnet: m.cfg.Subnet, blocked: m.cfg.blocked()}
	installed := false
	m.fwd, err = holdForwarding(func(guard bool) error {
		rs.guard = guard
		if err := rs.install(); err != nil {
			return err
		}
		installed = true
		return nil
	})
	if err != nil {
		if installed {
			err = errors.Join(err, removeTable(rs.table))
		}
		return err
	}
	if rs.guard {
		m.log.Info("egress: IPv4 forwarding is on for PUBLIC sandboxes only (Berth turned it on)",
			"sysctl", ipForwardPath)
	}
	return nil
}

// Available reports why mode cannot be provided, or nil if it can.
func (m *Manager) Available(mode sandbox.NetworkMode) error {
	switch mode {
	case sandbox.NetworkNone, sandbox.NetworkAllowlist:
		return netns.Available()
	case sandbox.NetworkPublic:
		return m.publicErr
	default:
		return fmt.Errorf("%w: unknown network mode %q", errdefs.ErrInvalidArgument, mode)
	}
}

// Prepare returns the network namespace for sandbox id under policy p: a fresh
// loopback-only one for NONE (or an empty mode), one from the pool (or built now, if the
// pool is empty) for PUBLIC, and a fresh loopback-only one with the allowlist proxy on its
// 127.0.0.1 for ALLOWLIST. The caller must Close the Network when the sandbox is gone;
// namespaces are never reused.
func (m *Manager) Prepare(ctx context.Context, id string, p sandbox.NetworkPolicy) (*Network, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.inflight.RLock()
	defer m.inflight.RUnlock()
	if m.isClosed() {
		return nil, ErrClosed
	}
	var (
		n   *Network
		err error
	)
	switch p.Mode {
	case sandbox.NetworkNone, "":
		n, err = m.prepareNone()
	case sandbox.NetworkPublic:
		n, err = m.preparePublic()
	case sandbox.NetworkAllowlist:
		n, err = m.prepareAllowlist(id, p.AllowedDomains)
	default:
		err = fmt.Errorf("%w: unknown network mode %q", errdefs.ErrInvalidArgument, p.Mode)
	}
	if err != nil {
		return nil, fmt.Errorf("prepare %s network of sandbox %s: %w", p.Mode, id, err)
	}
	n.id = id
	if err := m.track(n); err != nil {
		return nil, errors.Join(err, n.release())
	}
	return n, nil
}

func (m *Manager) prepareNone() (*Network, error) {
	ns, err := netns.New()
	if err != nil {
		return nil, err
	}
	return &Network{mode: sandbox.NetworkNone, ns: ns, release: ns.Close}, nil
}

func (m *Manager) preparePublic() (*Network, error) {
	if m.publicErr != nil {
		return nil, fmt.Errorf("%w: %w", errdefs.ErrUnavailable, m.publicErr)
	}
	p := m.pool.take()
	if p == nil {
		var err error
		if p, err = m.newPublic(); err != nil {
			return nil, err
		}
	}
	return &Network{mode: sandbox.NetworkPublic, ns: p.ns, addr: p.addr, release: p.destroy}, nil
}

func (m *Manager) prepareAllowlist(id string, domains []string) (*Network, error) {
	allow, err := ParseAllowlist(domains)
	if err != nil {
		return nil, err
	}
	ns, err := netns.New()
	if err != nil {
		return nil, err
	}
	ln, err := ns.Listen("tcp4", netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), m.cfg.ProxyPort).String())
	if err != nil {
		return nil, errors.Join(fmt.Errorf("allowlist proxy: %w", err), ns.Close())
	}
	px := newProxy(allow, m.lookup, m.guard, m.log.With("sandbox", id))
	px.serve(ln)
	return &Network{
		mode: sandbox.NetworkAllowlist, ns: ns, env: proxyEnv(m.cfg.ProxyPort),
		release: func() error { return errors.Join(px.close(), ns.Close()) },
	}, nil
}

// lookup resolves host for the allowlist proxy: Config.Hosts first, then the resolver,
// IPv4 only. The name is made absolute so that search domains never apply.
func (m *Manager) lookup(ctx context.Context, host string) ([]netip.Addr, error) {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if as, ok := m.cfg.Hosts[h]; ok {
		return as, nil
	}
	return m.cfg.Resolver.LookupNetIP(ctx, "ip4", h+".")
}

func (m *Manager) isClosed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closed
}

func (m *Manager) track(n *Network) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	n.owner = m
	m.live[n] = struct{}{}
	return nil
}

func (m *Manager) untrack(n *Network) {
	m.mu.Lock()
	delete(m.live, n)
	m.mu.Unlock()
}

// Close tears down everything the Manager made: the pool, every Network it handed out
// that is still open (their sandboxes lose their network), the veths, the nftables table,
// and the forwarding setting it changed. Later Prepare calls fail with ErrClosed.
func (m *Manager) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	m.mu.Unlock()
	// Wait for running Prepare calls (later ones see closed), and keep them out.
	m.inflight.Lock()
	defer m.inflight.Unlock()
	m.mu.Lock()
	live := make([]*Network, 0, len(m.live))
	for n := range m.live {
		live = append(live, n)
	}
	m.mu.Unlock()

	var errs []error
	if m.pool != nil {
		errs = append(errs, m.pool.close())
	}
	for _, n := range live {
		errs = append(errs, n.Close())
	}
	if m.publicErr == nil {
		// Forwarding goes off (if this is the last Manager) before the rules go, so nothing
		// is forwarded unfiltered.
		errs = append(errs, m.fwd.release(), removeTable(m.cfg.table()))
		m.nl.Close()
	}
	if m.claim != nil {
		errs = append(errs, m.claim.Close()) // the tag is free for the next Manager
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close egress manager: %w", err)
	}
	return nil
}
