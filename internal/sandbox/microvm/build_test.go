//go:build linux

package microvm

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// A caller that gives up does not stop the build: the next caller gets its result, and
// the build ran once. A failed build is tried again by the next caller.
func TestOneBuild_OutlivesCallersAndRetriesFailures(t *testing.T) {
	var b oneBuild[int]
	var runs atomic.Int32
	release := make(chan struct{})
	build := func(ctx context.Context) (int, error) {
		runs.Add(1)
		select {
		case <-release:
			return 42, nil
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := b.get(ctx, time.Minute, build); !errors.Is(err, context.Canceled) {
		t.Fatalf("get with a cancelled context = %v, want context.Canceled", err)
	}
	close(release)
	v, err := b.get(t.Context(), time.Minute, build)
	if err != nil || v != 42 {
		t.Fatalf("get = %d, %v; want 42", v, err)
	}
	if n := runs.Load(); n != 1 {
		t.Errorf("the build ran %d times, want once (the second caller joins the first build)", n)
	}
	if v, ok := b.peek(); !ok || v != 42 {
		t.Errorf("peek = %d, %v", v, ok)
	}

	var f oneBuild[int]
	fails := errors.New("no")
	if _, err := f.get(t.Context(), time.Minute, func(context.Context) (int, error) { return 0, fails }); !errors.Is(err, fails) {
		t.Fatalf("failing build = %v", err)
	}
	if v, err := f.get(t.Context(), time.Minute, func(context.Context) (int, error) { return 7, nil }); err != nil || v != 7 {
		t.Fatalf("build after a failure = %d, %v; want 7", v, err)
	}
	f.forget(func(v int) bool { return v == 7 })
	if _, ok := f.peek(); ok {
		t.Error("forget kept the value")
	}
}
