package microvm

import (
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	"berth.dev/berth/internal/atomicfile"
)

// Under TCG the guest's time-stamp counter runs at the host's TSC rate (QEMU reads the
// host's counter), but the guest kernel cannot calibrate it: it finds no HPET or ACPI PM
// timer on a microvm machine and fails against the PIT, marks the TSC unstable and keeps
// time by counting timer ticks, which a busy host's TCG thread loses (the guest's clocks
// then run 5–10 % slow). The driver measures the host's TSC frequency once per host boot
// and gives it to the guest kernel (tsc_early_khz, tsc=reliable). Under KVM the guest uses
// kvm-clock and needs none of this.

// tscSample is one reading of the TSC with the wall-clock time around it.
type tscSample struct {
	tsc uint64
	at  time.Time
}

// sampleTSC reads the TSC between two readings of the monotonic clock, keeping the
// tightest of a few tries, so a preemption does not skew it.
func sampleTSC() tscSample {
	best, bestGap := tscSample{}, time.Duration(1<<62)
	for range 32 {
		t0 := time.Now()
		c := rdtsc()
		t1 := time.Now()
		if gap := t1.Sub(t0); gap < bestGap {
			best, bestGap = tscSample{tsc: c, at: t0.Add(gap / 2)}, gap
		}
	}
	return best
}

// measureTSCKHz measures the host's TSC frequency over window.
func measureTSCKHz(window time.Duration) int64 {
	a := sampleTSC()
	time.Sleep(window)
	b := sampleTSC()
	ns := b.at.Sub(a.at).Nanoseconds()
	if ns <= 0 || b.tsc <= a.tsc {
		return 0
	}
	return int64(float64(b.tsc-a.tsc) / float64(ns) * 1e6)
}

// tscCache is the file that keeps the measured frequency for the host's boot.
type tscCache struct {
	Boot string `json:"boot"`
	KHz  int64  `json:"khz"`
}

// hostTSCKHz returns the host's TSC frequency in kHz, measured once per host boot and
// cached in CacheDir; 0 where there is no TSC to read.
func (d *Driver) hostTSCKHz() int64 {
	if !haveTSC {
		return 0
	}
	d.tscOnce.Do(func() {
		p := filepath.Join(d.cfg.CacheDir, "tsc-khz.json")
		var c tscCache
		if b, err := os.ReadFile(p); err == nil && json.Unmarshal(b, &c) == nil && c.Boot == bootID() && c.KHz > 0 {
			d.tscKHz = c.KHz
			return
		}
		d.tscKHz = measureTSCKHz(250 * time.Millisecond)
		if b, err := json.Marshal(tscCache{Boot: bootID(), KHz: d.tscKHz}); err == nil && d.tscKHz > 0 {
			if err := atomicfile.WriteFile(p, b, 0o644); err != nil {
				d.log.Warn("cannot cache the TSC frequency", "err", err)
			}
		}
		d.log.Debug("host TSC frequency measured", "khz", d.tscKHz)
	})
	return d.tscKHz
}
