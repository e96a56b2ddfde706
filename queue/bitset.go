package queue

import "math/bits"

// Bitset is a plain set of small non-negative integers, one bit each in
// []uint64 words. It is the engine's per-step active set: marking a range
// of neurons costs a few word writes, iterating costs well under a
// nanosecond per member (see BenchmarkActiveSet in this package for the
// comparison with roaring bitmaps).
type Bitset struct {
	words []uint64
	n     int
}

// NewBitset returns an empty set for members 0..n-1.
func NewBitset(n int) *Bitset {
	return &Bitset{words: make([]uint64, (n+63)/64), n: n}
}

// Cap is the number of possible members.
func (b *Bitset) Cap() int { return b.n }

// Words exposes the words (bit i of word w is member 64w+i) so hot loops
// can iterate without a call per member.
func (b *Bitset) Words() []uint64 { return b.words }

// Add adds i.
func (b *Bitset) Add(i int) { b.words[i>>6] |= 1 << (uint(i) & 63) }

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

// AddAll adds every possible member.
func (b *Bitset) AddAll() { b.AddRange(0, b.n) }

// Clear removes every member.
func (b *Bitset) Clear() { clear(b.words) }

// Count is the number of members.
func (b *Bitset) Count() int {
	c := 0
	for _, w := range b.words {
		c += bits.OnesCount64(w)
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
	for wi, w := range b.words {
		if w == 0 {
			continue
		}
		b.words[wi] = 0
		for w != 0 {
			f(wi<<6 + bits.TrailingZeros64(w))
			w &= w - 1
		}
	}
}

// DrainTo appends the members in increasing order to dst, empties the set
// and returns dst. It is AppendTo and Clear in one pass.
func (b *Bitset) DrainTo(dst []int32) []int32 {
	for wi, w := range b.words {
		if w == 0 {
			continue
		}
		b.words[wi] = 0
		base := int32(wi << 6)
		if w == ^uint64(0) {
			for i := int32(0); i < 64; i++ {
				dst = append(dst, base+i)
			}
			continue
		}
		for w != 0 {
			dst = append(dst, base+int32(bits.TrailingZeros64(w)))
			w &= w - 1
		}
	}
	return dst
}
