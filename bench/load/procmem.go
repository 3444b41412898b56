package load

import (
	"fmt"
	"os"
	"sync"
	"time"

	"berth.dev/berth/bench/harness"
)

// resetHWM sets pid's VmHWM back to its current RSS (writing 5 to clear_refs; needs the
// right to ptrace it, e.g. root or the same user).
func resetHWM(pid int) error {
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
		return fmt.Errorf("reset peak rss of pid %d: %w", pid, err)
	}
	return nil
}

// memWatch samples a process's RSS until stopped: the peak when VmHWM cannot be reset,
// and a cross-check on it when it can.
type memWatch struct {
	stop chan struct{}
	done chan struct{}
	mu   sync.Mutex
	peak int64
	err  error
}

func watchMem(pid int, every time.Duration) *memWatch {
	w := &memWatch{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			m, err := harness.ReadProcMemory(pid)
			w.mu.Lock()
			if err != nil && w.err == nil {
				w.err = err
			}
			w.peak = max(w.peak, m.RSS)
			w.mu.Unlock()
			select {
			case <-w.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return w
}

// Stop ends sampling and returns the highest RSS seen.
func (w *memWatch) Stop() (int64, error) {
	close(w.stop)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.peak, w.err
}
