package event

import (
	"math"
	"math/bits"
)

// constLayer holds the predicted threshold crossings of a layer whose only
// input is a constant current (every projection into it comes from the
// direct input, without delay: the first convolution of a CNN): no event
// ever reaches it, so the spikes of every step follow
// from v(0) and the current. At image start the neurons that can ever
// cross (current > 0, or v(0) ≥ θ) are gathered into compact arrays, and
// their crossings for the next h steps are computed by the same float32
// recurrence (vectorised) into per-step bitmap buckets; each step pops
// its bucket. Neurons that cannot cross cost nothing after the gathering.
type constLayer struct {
	cand []int32
	// For the fused paths (spikesToWindows, spikesToMax): fused[i] is the
	// pooling window of candidate i (or −1) and its spikes so far, indexed by the
	// bit so that no load waits on another, and side by side so that one
	// cache line serves both.
	fused    []winCount
	v, d, th []float32
	words    int
	bits     []uint64
	h        int
	from     int32
	filled   int32
	T        int32
	alpha    float32
	hard     bool
}

// init gathers the candidates of a new image; one, when not nil, maps
// each neuron to the window of the pool it feeds (fused paths).
func (c *constLayer) init(st *layerState, L *layerPlan, T int32, one []int32) {
	// Gathered without a branch per neuron (whether a neuron can cross
	// is a coin toss the branch predictor loses): every neuron is written
	// at slot n, and n advances only for candidates.
	nq := len(st.v)
	if cap(c.cand) < nq+8 {
		c.cand = make([]int32, nq+8)
		c.v = make([]float32, nq+8)
		c.d = make([]float32, nq+8)
		c.th = make([]float32, nq+8)
	}
	cand, cv, cd, cth := c.cand[:nq+1], c.v[:nq+1], c.d[:nq+1], c.th[:nq+1]
	vs, ds, ths := st.v[:nq], st.drift[:nq], L.theta[:nq]
	n := 0
	for q := range nq {
		v, d, th := vs[q], ds[q], ths[q]
		cand[n], cv[n], cd[n], cth[n] = int32(q), v, d, th
		if v >= th || d > 0 {
			n++
		}
	}
	c.cand, c.v, c.d, c.th = cand[:n], cv[:n], cd[:n], cth[:n]
	c.fused = c.fused[:0]
	if one != nil {
		if cap(c.fused) < n {
			c.fused = make([]winCount, n, nq)
		}
		c.fused = c.fused[:n]
		for i, q := range c.cand {
			c.fused[i] = winCount{win: one[q]}
		}
	}
	for len(c.v)%8 != 0 {
		c.v = append(c.v, 0)
		c.d = append(c.d, 0)
		c.th = append(c.th, float32(math.Inf(1)))
	}
	c.words = (len(c.v) + 63) / 64
	c.h = min(int(T), 64)
	if need := c.h * c.words; cap(c.bits) < need {
		c.bits = make([]uint64, need)
	}
	c.bits = c.bits[:c.h*c.words]
	c.from, c.filled, c.T = 1, 0, T
	c.alpha, c.hard = L.alpha, L.hard
}

// stepBits returns the spike bitmap of step t over the candidates
// (steps are asked in order), computing the next h steps when needed.
func (c *constLayer) stepBits(t int32, updates *int64) []uint64 {
	if t >= c.from+c.filled {
		c.from, c.filled = t, 0
		clear(c.bits)
		c.filled = int32(min(c.h, int(c.T-t+1)))
		constSteps(c.v, c.d, c.th, c.bits, c.words, int(c.filled), c.alpha, c.hard)
		*updates += int64(c.filled) * int64(len(c.v))
	}
	s := int(t - c.from)
	return c.bits[s*c.words : (s+1)*c.words]
}

// spikesAt appends the spikes of step t (steps are asked in order).
func (c *constLayer) spikesAt(t int32, dst []int32, updates *int64) []int32 {
	return drainBits(c.stepBits(t, updates), c.cand, dst)
}

// spikesToWindows is spikesAt fused with what is done next with the
// spikes when the layer feeds a pooling window per neuron (poolOne, given
// to init): each spike is counted for its neuron (count; first and firstN
// as in spikeStats) and for its window (cnt, win), and no list is built.
// It returns the number of spikes. One pass over the bits instead of
// three over a list: this layer fires most of the spikes of a converted
// CNN. Window bits are gathered in a register while consecutive spikes
// fall into the same word of win (the channels of one site do), so that
// the spikes do not queue on one memory word.
func (c *constLayer) spikesToWindows(t int32, updates *int64, cnt []uint16, win *marks) (n, first, firstN int64) {
	words := c.stepBits(t, updates)
	fused := c.fused
	cur, curBits := -1, uint64(0)
	for wi, wd := range words {
		if wd == 0 {
			continue
		}
		words[wi] = 0
		base := wi << 6
		for wd != 0 {
			i := base + bits.TrailingZeros64(wd)
			wd &= wd - 1
			n++
			f := &fused[i]
			// 1 for a neuron's first spike, without a branch (it is
			// unpredictable in the first steps).
			isFirst := int64(uint32(f.count-1) >> 31)
			first += int64(t) * isFirst
			firstN += isFirst
			f.count++
			if w := f.win; w >= 0 {
				cnt[w]++
				if ww := int(w >> 6); ww != cur {
					if cur >= 0 {
						win.or(cur, curBits)
					}
					cur, curBits = ww, 0
				}
				curBits |= 1 << (uint(w) & 63)
			}
		}
	}
	if cur >= 0 {
		win.or(cur, curBits)
	}
	return n, first, firstN
}

// spikesToMax is spikesToWindows for a layer that feeds a count-gated
// MaxPool whose windows do not overlap (one window per neuron, given to
// init): a window is marked when the count of the neuron that spiked rises
// above the window's maximum mx[w] (SPEC §2a), which it then becomes.
func (c *constLayer) spikesToMax(t int32, updates *int64, mx []int32, win *marks) (n, first, firstN int64) {
	words := c.stepBits(t, updates)
	fused := c.fused
	cur, curBits := -1, uint64(0)
	for wi, wd := range words {
		if wd == 0 {
			continue
		}
		words[wi] = 0
		base := wi << 6
		for wd != 0 {
			i := base + bits.TrailingZeros64(wd)
			wd &= wd - 1
			n++
			f := &fused[i]
			isFirst := int64(uint32(f.count-1) >> 31)
			first += int64(t) * isFirst
			firstN += isFirst
			f.count++
			if w := f.win; w >= 0 && f.count > mx[w] {
				mx[w] = f.count
				if ww := int(w >> 6); ww != cur {
					if cur >= 0 {
						win.or(cur, curBits)
					}
					cur, curBits = ww, 0
				}
				curBits |= 1 << (uint(w) & 63)
			}
		}
	}
	if cur >= 0 {
		win.or(cur, curBits)
	}
	return n, first, firstN
}

// flushCounts adds the fused path's per-candidate spike counts to the
// layer's per-neuron counts (at the end of an image).
func (c *constLayer) flushCounts(counts []int32) {
	for i, f := range c.fused {
		counts[c.cand[i]] += f.count
	}
}

// winCount is a candidate's pooling window and spike count (fused path).
type winCount struct {
	win, count int32
}
