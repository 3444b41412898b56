package control

import (
	"context"
	"fmt"
	"time"

	"berth.dev/berth/internal/store"
)

// Collector removes prepared artifacts that no version needs any more (internal/image's
// Preparer implements it). A Preparer without it is never collected.
type Collector interface {
	GC(ctx context.Context, keep map[string]bool) (removed int, err error)
}

// IdempotencyTTL is how long a clientToken's answer is kept for replays.
const IdempotencyTTL = 24 * time.Hour

// collectLoop runs garbage collection at start, every interval, and soon after deletions:
// prepared artifacts no version needs (when c is not nil) and expired clientToken answers.
func (s *Service) collectLoop(ctx context.Context, c Collector) {
	tick := time.NewTicker(s.opts.GCInterval)
	defer tick.Stop()
	for {
		if c != nil {
			if n, err := s.collect(ctx, c); err != nil && ctx.Err() == nil {
				s.log.WarnContext(ctx, "prepared artifact garbage collection", "err", err)
			} else if n > 0 {
				s.log.InfoContext(ctx, "removed prepared artifacts no version needs", "count", n)
			}
		}
		if err := s.expireIdempotency(ctx); err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "expire client tokens", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-s.gcKick:
		}
	}
}

// collect keeps the prepared artifact of every stored version and removes the rest.
func (s *Service) collect(ctx context.Context, c Collector) (int, error) {
	keep := map[string]bool{}
	err := s.st.View(ctx, func(tx store.Tx) error {
		rs := tx.Runtimes()
		after := ""
		for {
			rts, err := rs.ListRuntimes(ctx, after, 100)
			if err != nil {
				return err
			}
			for _, rt := range rts {
				vs, err := rs.ListVersions(ctx, rt.ID, 0, 0)
				if err != nil {
					return err
				}
				for _, v := range vs {
					if v.Prepared != nil && v.Prepared.Digest != "" {
						keep[v.Prepared.Digest] = true
					}
				}
			}
			if len(rts) < 100 {
				return nil
			}
			after = rts[len(rts)-1].ID
		}
	})
	if err != nil {
		return 0, fmt.Errorf("list prepared artifacts in use: %w", err)
	}
	return c.GC(ctx, keep)
}

// kickGC asks the collector to run soon, without waiting.
func (s *Service) kickGC() {
	select {
	case s.gcKick <- struct{}{}:
	default:
	}
}

// expireIdempotency forgets clientToken answers older than IdempotencyTTL.
func (s *Service) expireIdempotency(ctx context.Context) error {
	return s.update(ctx, func(tx store.Tx) error {
		_, err := tx.Idempotency().DeleteIdempotencyBefore(ctx, s.opts.Now().Add(-IdempotencyTTL))
		return err
	})
}
