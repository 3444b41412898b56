//go:build linux

package gvisor_test

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/sandbox/sandboxtest"
	"berth.dev/berth/test/testagent"
)

// BenchmarkStart measures spawn → first 200 from /ping (Start included, Stop excluded), for
// the static Go test agent on an image root and a Python code zip on the base root. It
// reports the median and the 90th percentile besides the mean.
func BenchmarkStart(b *testing.B) {
	d := newDriver(b, b.TempDir())
	rootFS := sandboxtest.ImageRoot(b, testagent.Binary(b))
	code := pythonCode(b)
	for _, bc := range []struct {
		name string
		spec sandbox.Spec
	}{
		{"Go", sandbox.Spec{RootFS: rootFS, WorkDir: "/srv", Command: []string{"/agent"}, Env: []string{"PATH=/bin"}}},
		{"Python", pythonSpec("", code)},
	} {
		b.Run(bc.name, func(b *testing.B) { benchStart(b, d, bc.spec) })
	}
}

func benchStart(b *testing.B, d sandbox.Driver, spec sandbox.Spec) {
	ctx := context.Background()
	var took []time.Duration
	i := 0
	for b.Loop() {
		i++
		spec.ID = "bench-" + strconv.Itoa(i)
		start := time.Now()
		sb, err := d.Start(ctx, spec)
		if err != nil {
			b.Fatal(err)
		}
		c := client(sb)
		for {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://sandbox/ping", nil)
			resp, err := c.Do(req)
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			select {
			case <-sb.Done():
				b.Fatalf("agent exited: %v", sb.ExitErr())
			case <-time.After(time.Millisecond):
			}
		}
		took = append(took, time.Since(start))
		b.StopTimer()
		if err := sb.Stop(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "ms-p50")
	b.ReportMetric(float64(took[len(took)*9/10].Microseconds())/1000, "ms-p90")
}
