package bench

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// operation is one timed call, such as issuing one account. worker is the
// index of the goroutine that runs it, from 0.
type operation func(ctx context.Context, worker int) error

// runResult is what one run of an operation measured.
type runResult struct {
	samples  []time.Duration // latency of each successful call
	elapsed  time.Duration   // wall time of the whole run
	errors   int
	firstErr error
	cpu      cpuTimes // CPU time of each side, when the run was sampled
}

// add appends another run, as one more round of the same contender.
func (r *runResult) add(other runResult) {
	r.samples = append(r.samples, other.samples...)
	r.elapsed += other.elapsed
	r.errors += other.errors
	r.cpu = r.cpu.add(other.cpu)
	if r.firstErr == nil {
		r.firstErr = other.firstErr
	}
}

// runConcurrently calls op count times in total from workers goroutines and
// times each call. It stops early when ctx ends.
func runConcurrently(ctx context.Context, workers, count int, op operation) runResult {
	var next atomic.Int64
	results := make([]runResult, workers)

	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[w] = runWorker(ctx, w, count, &next, op)
		}()
	}
	wg.Wait()

	total := runResult{elapsed: time.Since(start)}
	for _, r := range results {
		total.samples = append(total.samples, r.samples...)
		total.errors += r.errors
		if total.firstErr == nil {
			total.firstErr = r.firstErr
		}
	}
	return total
}

func runWorker(ctx context.Context, worker, count int, next *atomic.Int64, op operation) runResult {
	var r runResult
	for ctx.Err() == nil && next.Add(1) <= int64(count) {
		start := time.Now()
		err := op(ctx, worker)
		if err != nil {
			r.errors++
			if r.firstErr == nil {
				r.firstErr = err
			}
			continue
		}
		r.samples = append(r.samples, time.Since(start))
	}
	return r
}
