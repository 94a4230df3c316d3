package bench

import (
	"math"
	"slices"
	"time"
)

// latencySummary describes the calls of one contender in one figure.
// Latencies count successful calls only.
type latencySummary struct {
	Count      int     `json:"count"`
	Errors     int     `json:"errors"`
	P50Ms      float64 `json:"p50_ms"`
	P95Ms      float64 `json:"p95_ms"`
	P99Ms      float64 `json:"p99_ms"`
	PerSecond  float64 `json:"per_second,omitempty"` // successful calls per second of wall time
	FirstError string  `json:"first_error,omitempty"`
}

// summarize computes the percentiles of the samples and the rate over the
// elapsed time.
func summarize(r runResult) latencySummary {
	sorted := slices.Clone(r.samples)
	slices.Sort(sorted)

	s := latencySummary{
		Count:  len(sorted),
		Errors: r.errors,
		P50Ms:  milliseconds(percentile(sorted, 0.50)),
		P95Ms:  milliseconds(percentile(sorted, 0.95)),
		P99Ms:  milliseconds(percentile(sorted, 0.99)),
	}
	if r.elapsed > 0 {
		s.PerSecond = round2(float64(len(sorted)) / r.elapsed.Seconds())
	}
	if r.firstErr != nil {
		s.FirstError = r.firstErr.Error()
	}
	return s
}

// percentile returns the nearest-rank percentile q (0 to 1) of sorted, or 0
// when there are no samples.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(q * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

func milliseconds(d time.Duration) float64 {
	return round2(float64(d) / float64(time.Millisecond))
}

func seconds(d time.Duration) float64 {
	return round2(d.Seconds())
}

func round2(x float64) float64 {
	return math.Round(x*100) / 100
}

// ratio returns a / b, or 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return round2(a / b)
}

// percent returns a as a percentage of b, or 0 when b is 0.
func percent(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return round2(100 * a / b)
}
