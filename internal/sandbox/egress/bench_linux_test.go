package egress_test

import (
	"context"
	"testing"
	"time"

	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/sandbox/egress"
)

// BenchmarkManager_Prepare measures what a sandbox start waits for: Prepare alone (Close is
// outside the timer). "public-warm" takes a ready namespace from the pool (the timer stops
// while the pool refills); "public-cold" builds one (no pool).
func BenchmarkManager_Prepare(b *testing.B) {
	requireRoot(b)
	for _, bc := range []struct {
		name string
		pool int
		p    sandbox.NetworkPolicy
	}{
		{"none", -1, sandbox.NetworkPolicy{Mode: sandbox.NetworkNone}},
		{"allowlist", -1, sandbox.NetworkPolicy{Mode: sandbox.NetworkAllowlist, AllowedDomains: []string{"example.com"}}},
		{"public-warm", 2, public},
		{"public-cold", -1, public},
	} {
		b.Run(bc.name, func(b *testing.B) {
			m := newManager(b, egress.Config{PoolSize: bc.pool})
			ctx := b.Context()
			for b.Loop() {
				if bc.pool > 0 {
					b.StopTimer()
					wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
					err := egress.WaitPoolReady(wctx, m, 1)
					cancel()
					if err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
				n, err := m.Prepare(ctx, "bench", bc.p)
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if err := n.Close(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}
}

// BenchmarkNetwork_Close_Public measures tearing a PUBLIC network down (what a sandbox's
// Stop waits for).
func BenchmarkNetwork_Close_Public(b *testing.B) {
	requireRoot(b)
	m := newManager(b, egress.Config{PoolSize: -1})
	for b.Loop() {
		b.StopTimer()
		n, err := m.Prepare(b.Context(), "bench", public)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := n.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
