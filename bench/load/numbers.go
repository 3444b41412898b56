package load

import (
	"math"
	"time"

	"berth.dev/berth/bench/stats"
)

// fineMillis converts durations to milliseconds keeping sub-microsecond precision, for costs
// far below a millisecond (stats.Millis truncates to whole microseconds).
func fineMillis(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = float64(d.Nanoseconds()) / 1e6
	}
	return out
}

// median is the nearest-rank median of xs.
func median(xs []float64) float64 { return stats.Summarize("", xs).Median }

// safeDiv is a/b, or 0 when b is 0 (a ratio against a case that measured nothing).
func safeDiv(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// round3 rounds to three decimals, for the JSON extras.
func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// mib converts bytes to MiB.
func mib(b int64) float64 { return float64(b) / (1 << 20) }
