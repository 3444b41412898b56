package tracing

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// Agent export bounds.
const (
	agentQueue         = 256              // batches waiting for the endpoint
	agentUploadTimeout = 30 * time.Second // one upload, retries included
)

// agentExport posts agent spans to the OTLP endpoint on its own goroutine, so an agent's
// export request never waits for the collector.
type agentExport struct {
	client otlptrace.Client
	log    *slog.Logger
	lim    failureLog
	base   context.Context // cancelled when close gives up waiting
	cancel context.CancelFunc

	mu     sync.Mutex
	closed bool
	queue  chan []*tracepb.ResourceSpans
	done   chan struct{}
}

func newAgentExport(client otlptrace.Client, log *slog.Logger) *agentExport {
	a := &agentExport{client: client, log: log, queue: make(chan []*tracepb.ResourceSpans, agentQueue), done: make(chan struct{})}
	a.base, a.cancel = context.WithCancel(context.Background())
	go a.run()
	return a
}

func (a *agentExport) enqueue(rs []*tracepb.ResourceSpans) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return
	}
	select {
	case a.queue <- rs:
	default:
		a.lim.warn(context.Background(), a.log, "export agent spans over OTLP: queue full", countSpans(rs), fmt.Errorf("%d batches waiting", agentQueue))
	}
}

func (a *agentExport) run() {
	defer close(a.done)
	for rs := range a.queue {
		ctx, cancel := context.WithTimeout(a.base, agentUploadTimeout)
		if err := a.client.UploadTraces(ctx, rs); err != nil {
			a.lim.warn(ctx, a.log, "export agent spans over OTLP", countSpans(rs), err)
		}
		cancel()
	}
}

// close stops taking spans and waits, until ctx ends, for the queued ones to be sent; then
// it abandons the rest.
func (a *agentExport) close(ctx context.Context) error {
	a.mu.Lock()
	if !a.closed {
		a.closed = true
		close(a.queue)
	}
	a.mu.Unlock()
	defer a.cancel()
	select {
	case <-a.done:
		return nil
	case <-ctx.Done():
		a.cancel()
		<-a.done // every upload now fails at once
		return fmt.Errorf("agent spans still queued for export: %w", ctx.Err())
	}
}

func countSpans(rs []*tracepb.ResourceSpans) int {
	n := 0
	for _, r := range rs {
		for _, ss := range r.GetScopeSpans() {
			n += len(ss.GetSpans())
		}
	}
	return n
}
