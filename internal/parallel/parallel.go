// Package parallel is evsnn's one worker pool: independent tasks (images,
// batches of images, shards of a mini-batch) spread over goroutines.
//
// Callers write each task's result into a slot of its own (or into a
// per-worker accumulator of integers, summed after the run), so what they
// compute does not depend on the number of workers or on scheduling: the
// determinism contract of every engine, of training and of calibration
// rests on that.
package parallel

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
)

// Workers is the number of goroutines For starts for n tasks when asked
// for workers (0 or less: GOMAXPROCS): at least 1, at most n.
func Workers(workers, n int) int {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	return max(1, min(workers, n))
}

// For runs body(worker, task) for every task in 0..n-1, exactly once each,
// on Workers(workers, n) goroutines; worker is in 0..Workers-1 and tells a
// body which per-worker scratch or accumulator to use. Tasks are handed out
// in increasing order. After a body returns an error no new task starts;
// For returns the error of the lowest-numbered task that failed.
func For(workers, n int, body func(worker, task int) error) error {
	return ForContext(context.Background(), workers, n, body)
}

// ForContext is For that also stops handing out tasks once ctx is done,
// returning ctx.Err() if no task failed.
func ForContext(ctx context.Context, workers, n int, body func(worker, task int) error) error {
	if n <= 0 {
		return ctx.Err()
	}
	w := Workers(workers, n)
	var (
		next    atomic.Int64
		stop    atomic.Bool
		mu      sync.Mutex
		errTask = n
		first   error
	)
	fail := func(task int, err error) {
		stop.Store(true)
		mu.Lock()
		if task < errTask {
			errTask, first = task, err
		}
		mu.Unlock()
	}
	run := func(worker int) {
		for !stop.Load() {
			if ctx.Err() != nil {
				stop.Store(true)
				return
			}
			task := int(next.Add(1) - 1)
			if task >= n {
				return
			}
			if err := body(worker, task); err != nil {
				fail(task, err)
			}
		}
	}
	if w == 1 {
		run(0)
	} else {
		var wg sync.WaitGroup
		for k := range w {
			wg.Add(1)
			go func() {
				defer wg.Done()
				run(k)
			}()
		}
		wg.Wait()
	}
	if first != nil {
		return first
	}
	return ctx.Err()
}
