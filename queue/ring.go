package queue

// Ring is a time-bucketed queue: one bucket of entries per future time
// step, kept in a ring of Horizon() buckets as NEST's ring buffers and
// Brian2's spike queue do. An entry pushed for step s is handed back by
// Pop(s). Steps must be popped in increasing order and an entry may only be
// pushed for a step in [now, now+Horizon()), where now is the step after
// the last one popped (or the step given to Reset).
//
// Buckets keep their capacity between uses, so once the ring has seen its
// largest bucket, Push and Pop allocate nothing.
type Ring[E any] struct {
	buckets [][]E
	mask    int
	now     int
	n       int
}

// NewRing returns a ring whose horizon is at least horizon steps (rounded up
// to a power of two). The first step that can be popped is 0; call Reset to
// start elsewhere.
func NewRing[E any](horizon int) *Ring[E] {
	h := 1
	for h < horizon {
		h <<= 1
	}
	return &Ring[E]{buckets: make([][]E, h), mask: h - 1}
}

// Horizon is the number of buckets: entries may be pushed up to
// Horizon()-1 steps ahead of the current step.
func (r *Ring[E]) Horizon() int { return len(r.buckets) }

// Now is the earliest step that has not been popped yet.
func (r *Ring[E]) Now() int { return r.now }

// Len is the number of entries held.
func (r *Ring[E]) Len() int { return r.n }

// Push adds e to the bucket of step. It panics if step is outside
// [Now(), Now()+Horizon()).
func (r *Ring[E]) Push(step int, e E) {
	if uint(step-r.now) >= uint(len(r.buckets)) {
		panic("queue: Ring.Push outside the horizon")
	}
	b := &r.buckets[step&r.mask]
	*b = append(*b, e)
	r.n++
}

// Pop empties the bucket of step and returns its entries in push order.
// The returned slice stays valid until the next Push into the same bucket,
// that is, for step+Horizon(). Steps between Now() and step that were not
// popped must be empty. Pop advances Now() to step+1.
func (r *Ring[E]) Pop(step int) []E {
	if step < r.now {
		panic("queue: Ring.Pop of a past step")
	}
	b := &r.buckets[step&r.mask]
	out := *b
	*b = out[:0]
	r.n -= len(out)
	r.now = step + 1
	return out
}

// Reset empties every bucket (keeping their capacity) and sets Now() to
// step.
func (r *Ring[E]) Reset(step int) {
	if r.n > 0 {
		for i := range r.buckets {
			r.buckets[i] = r.buckets[i][:0]
		}
	}
	r.n = 0
	r.now = step
}
