package queue

import "math/bits"

// Bitset is a plain set of small non-negative integers, one bit each in
// []uint64 words. It is the engine's per-step active set: marking a range
// of neurons costs a few word writes, iterating costs well under a
// nanosecond per member (see BenchmarkActiveSet in this package for the
// comparison with roaring bitmaps and sorted lists).
//
// A flat Bitset costs a pass over all its words to list, count or clear
// its members, whatever their number. SetSparse(true) adds a second level
// — bit i of a summary word says word i may be nonzero — so that these
// cost in proportion to the words holding members, plus one summary word
// per 4096 possible members: the form for large, quiet sets.
type Bitset struct {
	words []uint64
	top   []uint64 // the second level, nil while flat
	spare []uint64 // the second level's memory while flat (all zero)
	n     int
}

// NewBitset returns an empty, flat set for members 0..n-1.
func NewBitset(n int) *Bitset {
	return &Bitset{words: make([]uint64, (n+63)/64), n: n}
}

// Cap is the number of possible members.
func (b *Bitset) Cap() int { return b.n }

// Words exposes the words (bit i of word w is member 64w+i) so hot loops
// can iterate without a call per member. A loop that sets bits itself
// must also set the summary bits of a sparse set (Top).
func (b *Bitset) Words() []uint64 { return b.words }

// Top exposes the second level of a sparse set (bit i of word w: word
// 64w+i may be nonzero), nil while the set is flat.
func (b *Bitset) Top() []uint64 { return b.top }

// Sparse reports whether the set has its second level.
func (b *Bitset) Sparse() bool { return b.top != nil }

// SetSparse switches the set to the two-level form (on) or back to the
// flat one. The set must be empty; the second level's memory is kept for
// the next switch.
func (b *Bitset) SetSparse(on bool) {
	if on == (b.top != nil) {
		return
	}
	if on {
		if b.spare == nil {
			b.spare = make([]uint64, (len(b.words)+63)/64)
		}
		b.top, b.spare = b.spare, nil
	} else {
		b.top, b.spare = nil, b.top
	}
}

// Add adds i.
func (b *Bitset) Add(i int) {
	b.words[i>>6] |= 1 << (uint(i) & 63)
	if b.top != nil {
		b.top[i>>12] |= 1 << (uint(i>>6) & 63)
	}
}

// Contains reports whether i is a member.
func (b *Bitset) Contains(i int) bool { return b.words[i>>6]&(1<<(uint(i)&63)) != 0 }

// AddRange adds lo..hi-1.
func (b *Bitset) AddRange(lo, hi int) {
	if lo >= hi {
		return
	}
	wl, wh := lo>>6, (hi-1)>>6
	ml := ^uint64(0) << (uint(lo) & 63)
	mh := ^uint64(0) >> (63 - (uint(hi-1) & 63))
	if b.top != nil {
		markRange(b.top, wl, wh+1)
	}
	if wl == wh {
		b.words[wl] |= ml & mh
		return
	}
	b.words[wl] |= ml
	for w := wl + 1; w < wh; w++ {
		b.words[w] = ^uint64(0)
	}
	b.words[wh] |= mh
}

// markRange sets bits lo..hi-1 of words.
func markRange(words []uint64, lo, hi int) {
	for lo < hi {
		w, s := lo>>6, uint(lo)&63
		n := min(64-int(s), hi-lo)
		m := ^uint64(0) >> (64 - uint(n)) << s
		words[w] |= m
		lo += n
	}
}

// AddAll adds every possible member.
func (b *Bitset) AddAll() { b.AddRange(0, b.n) }

// Clear removes every member.
func (b *Bitset) Clear() {
	if b.top == nil {
		clear(b.words)
		return
	}
	for ti, tw := range b.top {
		if tw == 0 {
			continue
		}
		b.top[ti] = 0
		for tw != 0 {
			b.words[ti<<6+bits.TrailingZeros64(tw)] = 0
			tw &= tw - 1
		}
	}
}

// Count is the number of members.
func (b *Bitset) Count() int {
	c := 0
	if b.top == nil {
		for _, w := range b.words {
			c += bits.OnesCount64(w)
		}
		return c
	}
	for ti, tw := range b.top {
		for tw != 0 {
			c += bits.OnesCount64(b.words[ti<<6+bits.TrailingZeros64(tw)])
			tw &= tw - 1
		}
	}
	return c
}

// AppendTo appends the members in increasing order to dst and returns it.
func (b *Bitset) AppendTo(dst []uint32) []uint32 {
	for wi, w := range b.words {
		for w != 0 {
			dst = append(dst, uint32(wi<<6+bits.TrailingZeros64(w)))
			w &= w - 1
		}
	}
	return dst
}

// Drain calls f for each member in increasing order and empties the set.
func (b *Bitset) Drain(f func(i int)) {
	b.eachWord(func(wi int, w uint64) {
		for w != 0 {
			f(wi<<6 + bits.TrailingZeros64(w))
			w &= w - 1
		}
	})
}

// eachWord calls f with every nonzero word in increasing order, zeroing
// it (and the second level).
func (b *Bitset) eachWord(f func(wi int, w uint64)) {
	if b.top == nil {
		for wi, w := range b.words {
			if w != 0 {
				b.words[wi] = 0
				f(wi, w)
			}
		}
		return
	}
	for ti, tw := range b.top {
		if tw == 0 {
			continue
		}
		b.top[ti] = 0
		for tw != 0 {
			wi := ti<<6 + bits.TrailingZeros64(tw)
			tw &= tw - 1
			if w := b.words[wi]; w != 0 {
				b.words[wi] = 0
				f(wi, w)
			}
		}
	}
}

// DrainTo appends the members in increasing order to dst, empties the set
// and returns dst. It is AppendTo and Clear in one pass.
func (b *Bitset) DrainTo(dst []int32) []int32 {
	if b.top != nil {
		return b.drainSparse(dst)
	}
	for wi, w := range b.words {
		if w == 0 {
			continue
		}
		b.words[wi] = 0
		dst = appendWord(dst, int32(wi<<6), w)
	}
	return dst
}

// drainSparse is DrainTo through the second level.
func (b *Bitset) drainSparse(dst []int32) []int32 {
	for ti, tw := range b.top {
		if tw == 0 {
			continue
		}
		b.top[ti] = 0
		for tw != 0 {
			wi := ti<<6 + bits.TrailingZeros64(tw)
			tw &= tw - 1
			if w := b.words[wi]; w != 0 {
				b.words[wi] = 0
				dst = appendWord(dst, int32(wi<<6), w)
			}
		}
	}
	return dst
}

// appendWord appends the members base+i of word w.
func appendWord(dst []int32, base int32, w uint64) []int32 {
	if w == ^uint64(0) {
		for i := int32(0); i < 64; i++ {
			dst = append(dst, base+i)
		}
		return dst
	}
	for w != 0 {
		dst = append(dst, base+int32(bits.TrailingZeros64(w)))
		w &= w - 1
	}
	return dst
}
