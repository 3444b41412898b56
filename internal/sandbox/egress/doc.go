// Package egress gives each sandbox the network namespace its egress policy
// (sandbox.NetworkPolicy) calls for. Drivers fork the sandbox into Network.NS(), add
// Network.Env() to its environment, and Close the Network when the sandbox is stopped.
//
// The three modes:
//
//   - NONE: a fresh loopback-only namespace (netns.New). Nothing leaves it.
//   - PUBLIC: the namespace has eth0, one end of a veth pair, with a /30 from
//     Config.Subnet (default 10.231.0.0/16) and a default route to the host end. The host
//     forwards and masquerades its IPv4 traffic to the internet, but rejects everything
//     bound for the host itself (any of its addresses: the input hook rejects all packets
//     from sandbox veths), for other sandboxes, for the ranges in ForbiddenPrefixes (RFC
//     1918, CGNAT 100.64/10, loopback, link-local including 169.254.169.254, multicast,
//     reserved) and for Config.Blocked. IPv6 is rejected entirely, and so is a packet whose
//     source address does not route back through its own veth (spoofing). Nothing from
//     outside, host processes included, can open a connection into a sandbox. Refusals are
//     TCP resets or ICMP errors, so they fail at once. A DNS forwarder on
//     the namespace's 127.0.0.1:53 (UDP and TCP) relays queries to the host's resolvers
//     (Config.Resolvers, default: /etc/resolv.conf), which the sandbox itself need not
//     reach; the base rootfs's resolv.conf says "nameserver 127.0.0.1".
//   - ALLOWLIST: a fresh loopback-only namespace in which Berth serves an HTTP(S) forward
//     proxy on 127.0.0.1:Config.ProxyPort (default 3128) and HTTP_PROXY and friends point
//     at it. The proxy serves CONNECT (HTTPS) and absolute-form HTTP to the listed domains
//     only (exact names and "*.suffix" wildcards, see Allowlist), resolves names itself
//     (Config.Hosts, then Config.Resolver), drops every resolved address that is
//     forbidden as above or belongs to the host, and dials only the addresses it checked,
//     so DNS rebinding cannot reach a forbidden address. Refusals are 403 with a one-line
//     reason. The listening socket is created inside the namespace, the upstream ones in
//     Berth's, so the sandbox has no route anywhere.
//
// PUBLIC set-up costs tens of milliseconds (veth creation serializes on the kernel's rtnl
// lock), so a Manager keeps a pool of Config.PoolSize ready namespaces, filled in the
// background from the first PUBLIC Prepare on, and Prepare normally only hands one out. A namespace serves one sandbox
// only: Network.Close destroys it, and its /30 is reused as late as possible (round-robin),
// after its connection-tracking entries are flushed.
//
// Host changes, all undone by Manager.Close:
//
//   - one nftables table, "inet berth_egress" ("berth_egress_<Tag>"), replaced atomically
//     at New (removing one a crashed Berth left) and deleted at Close. Its rules match
//     every interface whose name starts with "brth", so every Berth table applies the same
//     policy to every Berth sandbox.
//   - host-side veths named "brth<Tag>-<block in hex>"; New deletes ones a crashed Berth
//     with the same Tag left, cutting off their sandboxes.
//   - net.ipv4.ip_forward: PUBLIC needs it. If it is off, New turns it on, and the tables
//     then also drop every forwarded packet that neither comes from nor goes to a sandbox
//     veth, so the host does not start routing between its other interfaces; the last
//     Manager on the host to close turns it off again. If it was already on, it is left
//     alone. Managers in any number of processes coordinate through flock'ed files in
//     /run/berth (egress-forwarding.*), which a crashed process cannot block. Something
//     other than Berth that turns forwarding on while Berth runs is not noticed: Berth
//     turns it off at the end all the same.
//
// Limits, stated honestly:
//
//   - IPv4 only. Sandboxes get no IPv6 route and IPv6 from them is rejected; the proxy
//     resolves and dials IPv4 only.
//   - The rules are nftables (netlink, no binary needed; kernel 5.2 or later for inet NAT).
//     Rules in other tables still apply: a host firewall whose forward policy is drop
//     (Docker's iptables, for example) also drops sandbox traffic unless it allows
//     Config.Subnet.
//   - Addresses on the host's own LAN that are public (not in a forbidden range) count as
//     "internet" to PUBLIC sandboxes unless listed in Config.Blocked.
//   - PUBLIC sandboxes may send any protocol to the internet, DNS included (to public
//     servers, or tunneled through the forwarder, which relays whatever the host's
//     resolvers answer and does not filter names).
//   - ALLOWLIST covers HTTP clients that honour the proxy variables. The proxy allows
//     every port of a listed domain, needs no authentication (only the sandbox can reach
//     it), and serves no DNS: a client that resolves names itself gets nothing.
//   - Per sandbox, the proxy accepts at most 256 connections at once and the DNS forwarder
//     relays 64 UDP queries and serves 16 TCP connections at once.
//   - Flushing an address's connection-tracking entries reads the whole table, which costs
//     more on hosts that track very many connections (it runs while refilling the pool).
//   - Only one Manager per Tag may run on a host at a time.
//
// The package works on Linux only; elsewhere only the portable helpers (Allowlist,
// ForbiddenPrefixes) exist.
package egress
