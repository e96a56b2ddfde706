package parallel

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
)

func TestForRunsEveryTaskOnce(t *testing.T) {
	for _, tc := range []struct{ workers, n int }{{1, 0}, {1, 7}, {3, 100}, {0, 33}, {16, 5}} {
		t.Run(fmt.Sprintf("w%d_n%d", tc.workers, tc.n), func(t *testing.T) {
			hits := make([]atomic.Int32, tc.n)
			maxWorker := atomic.Int32{}
			err := For(tc.workers, tc.n, func(w, i int) error {
				hits[i].Add(1)
				if int32(w) > maxWorker.Load() {
					maxWorker.Store(int32(w))
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			for i := range hits {
				if got := hits[i].Load(); got != 1 {
					t.Fatalf("task %d ran %d times", i, got)
				}
			}
			if w := int(maxWorker.Load()); tc.n > 0 && w >= Workers(tc.workers, tc.n) {
				t.Fatalf("worker index %d out of range %d", w, Workers(tc.workers, tc.n))
			}
		})
	}
}

func TestForReturnsLowestFailedTask(t *testing.T) {
	err := For(1, 10, func(w, i int) error {
		if i >= 3 {
			return fmt.Errorf("task %d", i)
		}
		return nil
	})
	if err == nil || err.Error() != "task 3" {
		t.Fatalf("err = %v, want task 3", err)
	}
}

func TestForContextStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ran := 0
	err := ForContext(ctx, 1, 100, func(w, i int) error {
		ran++
		if i == 4 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || ran != 5 {
		t.Fatalf("err = %v after %d tasks, want context.Canceled after 5", err, ran)
	}
}
