package metering

import (
	"time"

	"berth.dev/berth/internal/sandbox"
	"berth.dev/berth/internal/store"
)

// tally is the running account of one session. It is not safe for concurrent use: the
// Meter guards it with its session's mutex.
type tally struct {
	info    Session
	last    time.Time     // instant of the last sample (or the session's start)
	lastCPU time.Duration // cumulative CPU time at the last sample
	peak    int64         // peak memory so far, bytes
	life    time.Duration // session life accounted so far
	open    store.UsageRecord
	done    []store.UsageRecord // completed minutes not yet flushed
}

func newTally(s Session) *tally {
	t := &tally{info: s, last: s.StartedAt, lastCPU: s.BaseCPU}
	t.open = t.record(s.StartedAt.UTC().Truncate(time.Minute))
	return t
}

func (t *tally) record(minute time.Time) store.UsageRecord {
	return store.UsageRecord{RecordID: t.info.RecordID, Minute: minute, RuntimeID: t.info.RuntimeID,
		Endpoint: t.info.Endpoint, SessionID: t.info.SessionID, MemoryPeakBytes: t.peak}
}

// billedMemory is the memory billed per second now: the peak so far, at least MinBilledMemory.
func (t *tally) billedMemory() int64 { return max(t.peak, MinBilledMemory) }

// sample folds one usage reading taken at now into the tally and returns the billable CPU
// (vCPU-seconds) and memory (GB-seconds) it added. The CPU used since the last reading is
// spread evenly over the time between them; each second of that time is billed the peak
// memory reported by this reading (an upper bound of the peak up to that second). A reading
// older than the last one still adds its CPU, to the current minute.
func (t *tally) sample(now time.Time, u sandbox.Usage) (vcpu, gb float64) {
	cpu := max(u.CPUTime-t.lastCPU, 0)
	t.lastCPU = max(t.lastCPU, u.CPUTime)
	t.peak = max(t.peak, u.MemoryPeakBytes, u.MemoryBytes)
	t.open.MemoryPeakBytes = t.peak
	span := now.Sub(t.last)
	if span <= 0 {
		t.open.VCPUSeconds += cpu.Seconds()
		return cpu.Seconds(), 0
	}
	mem := float64(t.billedMemory()) / GB
	for from := t.last; from.Before(now); {
		end := t.open.Minute.Add(time.Minute)
		to := now
		if end.Before(now) {
			to = end
		}
		seg := to.Sub(from)
		share := cpu.Seconds() * float64(seg) / float64(span)
		t.open.Seconds += seg.Seconds()
		t.open.VCPUSeconds += share
		t.open.GBSeconds += mem * seg.Seconds()
		gb += mem * seg.Seconds()
		if !to.Before(end) {
			t.done = append(t.done, t.open)
			t.open = t.record(end)
		}
		from = to
	}
	t.life += span
	t.last = now
	return cpu.Seconds(), gb
}

// finish bills the rest of a session that lasted less than MinBilled: the missing life is
// added to the current minute at the billed memory. It returns the GB-seconds added.
func (t *tally) finish() float64 {
	if t.life >= MinBilled {
		return 0
	}
	missing := MinBilled - t.life
	gb := float64(t.billedMemory()) / GB * missing.Seconds()
	t.open.Seconds += missing.Seconds()
	t.open.GBSeconds += gb
	t.life = MinBilled
	return gb
}

// take returns the completed minutes, and with end also the open one, and forgets them.
func (t *tally) take(end bool) []store.UsageRecord {
	out := t.done
	t.done = nil
	if end && (t.open.Seconds > 0 || t.open.VCPUSeconds > 0) {
		out = append(out, t.open)
	}
	return out
}
