package session

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"berth.dev/berth/internal/catalog"
)

// BenchmarkSessionStart measures a new session's time to first byte: from Acquire to the
// first byte of its first invocation's answer. "cold" starts a sandbox for each session,
// "pool_hit" takes a pre-started one from a warm pool (waiting, untimed, for the refill),
// and "warm_call" is a further call on a live session, for reference. Run with the process
// driver and the Go test agent (as root), e.g.
//
//	go test -run '^$' -bench SessionStart -benchtime 50x ./internal/session/
func BenchmarkSessionStart(b *testing.B) {
	b.Run("cold", func(b *testing.B) { benchNewSessions(b, 0) })
	b.Run("pool_hit", func(b *testing.B) { benchNewSessions(b, 1) })
	b.Run("warm_call", benchWarmCall)
}

func benchNewSessions(b *testing.B, poolSize int) {
	h := newHarness(b, withPools(poolSize, func(o *Options) { o.Logger = nil }))
	tgt := h.versionTarget(1, 0)
	if poolSize > 0 {
		h.warm(catalog.DefaultEndpoint, tgt)
	}
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		if poolSize > 0 {
			h.waitPool("one ready", readyN(poolSize))
		}
		k := key(fmt.Sprintf("bench%d", i))
		b.StartTimer()
		l, err := h.m.Acquire(b.Context(), k, fixed(tgt))
		if err != nil {
			b.Fatal(err)
		}
		firstByte(b, l)
		b.StopTimer()
		if l.PoolHit() != (poolSize > 0) {
			b.Fatalf("pool hit %v with pool size %d", l.PoolHit(), poolSize)
		}
		l.Release()
		if err := h.m.Stop(b.Context(), k); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

func benchWarmCall(b *testing.B) {
	h := newHarness(b, func(o *Options) { o.Logger = nil })
	l, err := h.m.Acquire(b.Context(), key("warm"), fixed(h.versionTarget(1, 0)))
	if err != nil {
		b.Fatal(err)
	}
	defer l.Release()
	firstByte(b, l)
	b.ResetTimer()
	for range b.N {
		firstByte(b, l)
	}
}

// firstByte posts an incr invocation and reads its answer: the first byte, then the few
// that follow.
func firstByte(b *testing.B, l *Lease) {
	req, err := http.NewRequestWithContext(b.Context(), http.MethodPost, "http://agent/invocations", strings.NewReader(`{"op":"incr"}`))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Transport: l.Transport()}).Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var one [1]byte
	if _, err := io.ReadFull(resp.Body, one[:]); err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("first byte: status %d, %v", resp.StatusCode, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
}
