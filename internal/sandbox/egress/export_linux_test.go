package egress

import "context"

// WaitPoolReady starts m's pool filling, as the first PUBLIC sandbox does, and waits until
// it holds at least n ready namespaces.
func WaitPoolReady(ctx context.Context, m *Manager, n int) error {
	m.pool.signal()
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
