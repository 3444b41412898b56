package egress

import "context"

// WaitPoolReady waits until m's pool holds at least n ready namespaces.
func WaitPoolReady(ctx context.Context, m *Manager, n int) error {
	for {
		k, changed := m.pool.state()
		if k >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
