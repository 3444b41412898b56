package egress

import (
	"errors"
	"sync"
	"time"
)

// Back-off of the refill loop after a failed set-up.
const (
	poolRetryMin = 100 * time.Millisecond
	poolRetryMax = 10 * time.Second
)

// pool keeps up to size ready PUBLIC namespaces. One goroutine refills it, one namespace at
// a time (veth set-up serializes on the kernel's rtnl lock anyway), whenever a namespace is
// taken; set-up therefore happens off the request path. It first fills at the first take:
// a server whose runtimes never ask for PUBLIC builds no veths. A nil *pool is an empty pool.
type pool struct {
	m    *Manager
	size int

	mu      sync.Mutex
	ready   []*publicNS
	closed  bool
	changed chan struct{} // closed and replaced whenever ready changes

	kick chan struct{}
	stop chan struct{}
	wg   sync.WaitGroup
}

// startPool starts the refill goroutine; a size below 1 means no pool (nil).
func startPool(m *Manager, size int) *pool {
	if size < 1 {
		return nil
	}
	p := &pool{m: m, size: size, changed: make(chan struct{}),
		kick: make(chan struct{}, 1), stop: make(chan struct{})}
	p.wg.Go(p.refill)
	return p
}

// take returns a ready namespace, or nil if none is ready.
func (p *pool) take() *publicNS {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	var n *publicNS
	if k := len(p.ready); k > 0 {
		n = p.ready[k-1]
		p.ready = p.ready[:k-1]
		p.notifyLocked()
	}
	p.mu.Unlock()
	p.signal()
	return n
}

// signal wakes the refill goroutine.
func (p *pool) signal() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

func (p *pool) notifyLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// state returns the number of ready namespaces and a channel closed at the next change.
func (p *pool) state() (int, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.ready), p.changed
}

func (p *pool) refill() {
	wait := poolRetryMin
	for {
		select {
		case <-p.stop:
			return
		case <-p.kick:
		}
		for p.missing() > 0 {
			n, err := p.m.newPublic()
			if err != nil {
				p.m.log.Warn("egress: refilling the PUBLIC namespace pool failed", "err", err, "retry_in", wait)
				select {
				case <-p.stop:
					return
				case <-time.After(wait):
				}
				wait = min(2*wait, poolRetryMax)
				continue
			}
			wait = poolRetryMin
			if !p.put(n) {
				_ = n.destroy()
				return
			}
		}
	}
}

func (p *pool) missing() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return 0
	}
	return p.size - len(p.ready)
}

func (p *pool) put(n *publicNS) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.ready = append(p.ready, n)
	p.notifyLocked()
	return true
}

// close stops refilling and destroys the ready namespaces.
func (p *pool) close() error {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	p.closed = true
	ready := p.ready
	p.ready = nil
	p.notifyLocked()
	p.mu.Unlock()
	close(p.stop)
	p.wg.Wait()
	var errs []error
	for _, n := range ready {
		errs = append(errs, n.destroy())
	}
	return errors.Join(errs...)
}
