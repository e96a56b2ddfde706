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
// Bitset is a []uint64 set used for the per-step active sets: Add and
// AddRange mark members in a word write or a few, Count counts them, and
// DrainTo lists them in increasing order and empties the set in one pass.
// It has two forms. Flat, those passes cover every word, whatever the set
// holds. With SetSparse(true) a second level (a summary bit per word)
// makes them cover only the words that hold members, plus one summary
// word per 4,096 possible members: the form for large, quiet sets.
//
// BenchmarkActiveSetScale measures, for sets of 10⁴ … 1.6·10⁷ possible
// members with 10⁻⁵ … 10 % of them present, added one at a time in random
// order, counted, and listed in order (what a step of the event engine
// does with a layer's touched neurons), the flat and the two-level
// bitset, sorted lists (slices.Sort, and RadixSort) and roaring bitmaps
// (github.com/RoaringBitmap/roaring/v2, Add and AddMany); it reports wall
// and CPU time per step. The two-level form is the fastest or within a
// few microseconds of it up to 1 % activity at every size from 10⁵ on —
// the flat form pays 226 µs a step at 1.6·10⁷ for any number of members,
// the two-level 7 µs for 160 — and the flat form is 1.2–1.4× faster at
// 10 %, where nearly every word is touched; lists win only with at most a
// few hundred members and lose 3–15× from a few thousand; roaring costs
// 1.8–18× the two-level form everywhere. The event engine therefore
// switches each layer between the two bitset forms by size and observed
// activity (package event's doc, "Active sets", has the table).
// BenchmarkActiveSet compares the forms on the LeNet fixture's own,
// small and dense sets, where the flat bitset beats roaring by 3–17×.
package queue
