package metering

import (
	"math"
	"testing"
	"time"

	"berth.dev/berth/internal/sandbox"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// TestTally_SplitsAtMinutes: readings spanning a minute boundary split life, memory and CPU
// (evenly over the span) between the two minutes; the completed minute is handed out once.
func TestTally_SplitsAtMinutes(t *testing.T) {
	m0 := time.Date(2026, 3, 14, 15, 9, 0, 0, time.UTC)
	tl := newTally(Session{RecordID: "r", StartedAt: m0.Add(50 * time.Second)})
	// 20 s later (10 s in each minute), 4 s of CPU, 256 MiB peak.
	tl.sample(m0.Add(70*time.Second), sandbox.Usage{CPUTime: 4 * time.Second, MemoryPeakBytes: 256 << 20})
	done := tl.take(false)
	if len(done) != 1 || !done[0].Minute.Equal(m0) {
		t.Fatalf("completed minutes %+v, want the first", done)
	}
	if d := done[0]; !near(d.Seconds, 10) || !near(d.VCPUSeconds, 2) || !near(d.GBSeconds, 2.5) {
		t.Errorf("first minute %+v, want 10 s, 2 vCPU-s, 2.5 GB-s", d)
	}
	if len(tl.take(false)) != 0 {
		t.Error("a completed minute was handed out twice")
	}
	// A lower CPU reading adds nothing; memory is billed at the peak so far, not the lower
	// current reading.
	tl.sample(m0.Add(80*time.Second), sandbox.Usage{CPUTime: 3 * time.Second, MemoryBytes: 1 << 20})
	rest := tl.take(true)
	if len(rest) != 1 || !near(rest[0].Seconds, 20) || !near(rest[0].VCPUSeconds, 2) || !near(rest[0].GBSeconds, 5) {
		t.Errorf("open minute %+v, want 20 s, 2 vCPU-s, 5 GB-s at the 256 MiB peak", rest)
	}
}

// TestTally_MinimumSecondAtFloor: a 200 ms session of a tiny agent is billed one second at
// 128 MiB.
func TestTally_MinimumSecondAtFloor(t *testing.T) {
	start := time.Date(2026, 3, 14, 15, 9, 10, 0, time.UTC)
	tl := newTally(Session{RecordID: "r", StartedAt: start})
	tl.sample(start.Add(200*time.Millisecond), sandbox.Usage{CPUTime: 30 * time.Millisecond, MemoryPeakBytes: 8 << 20})
	tl.finish()
	recs := tl.take(true)
	if len(recs) != 1 || !near(recs[0].Seconds, 1) || !near(recs[0].GBSeconds, 0.125) || !near(recs[0].VCPUSeconds, 0.03) {
		t.Errorf("records %+v, want 1 s, 0.125 GB-s, 0.03 vCPU-s", recs)
	}
}
