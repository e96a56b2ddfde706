// Package queue holds the two data structures the event engine's time
// loop is built on.
//
// Ring is a time-bucketed queue: one bucket per future step in a ring of
// Horizon() buckets (a power of two), as NEST's ring buffers and Brian2's
// spike queue do. Push(step, e) files e for a step at most Horizon()−1
// ahead; Pop(step) hands back that step's entries and advances the ring.
// Buckets keep their capacity, so after warm-up neither allocates. The
// engine keeps one Ring per layer for predicted threshold crossings (a
// neuron driven only by its constant current is filed under the step it
// may next cross) and one per delayed projection for the events in
// flight (an event of step t with delay d is filed under t+d).
//
//	r := queue.NewRing[int32](8)
//	r.Push(3, 42)
//	for t := 0; t < 8; t++ {
//		for _, q := range r.Pop(t) { /* neuron q is due at step t */ }
//	}
//
// Bitset is a plain []uint64 set used for the per-step active sets:
// AddRange marks a run of neurons in a few word writes, DrainTo lists the
// members in increasing order and empties the set in one pass.
// BenchmarkActiveSet compares it with roaring bitmaps (AddRange, AddMany
// on sorted input, FromDense, and the allocation-free iterators) on the
// engine's actual set sizes; the plain bitset wins by 3-17× there, so
// the engine uses it.
package queue
