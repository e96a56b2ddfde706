package event

import (
	"math"
	"math/bits"

	"github.com/evsnn/evsnn/network"
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
	// pooling window of candidate i (or −1) and its spikes so far, indexed
	// by the bit so that no load waits on another, and side by side so
	// that one cache line serves both; fan[i] is its SOPs per spike.
	fused []winCount
	fan   []int32
	// A recording run's fused paths (userOn) hand the steps' bits to the
	// image's recording rec, layer recK, through the candidates' internal
	// indices and recPos (network.SpikeSet.AddSteps), without a list of
	// spikes; recorded is the last step handed.
	userOn   bool
	rec      *network.SpikeSet
	recK     int
	recPos   []uint32
	recorded int32
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

// winCount is a candidate's pooling window and spike count (fused paths).
type winCount struct {
	win, count int32
}

// init gathers the candidates of a new image, whose crossings are then
// computed chunk steps at a time; one, when not nil, maps each neuron to
// the window of the pool it feeds (fused paths); in a recording run rec is
// the image's recording, k the layer, and pos maps each neuron to its
// recording position (nil: its own index).
func (c *constLayer) init(st *layerState, L *layerPlan, T int32, chunk int, one []int32, rec *network.SpikeSet, k int, pos []uint32) {
	nq := len(st.v)
	if cap(c.cand) < nq+8 {
		c.cand = make([]int32, nq+8)
		c.v = make([]float32, nq+8)
		c.d = make([]float32, nq+8)
		c.th = make([]float32, nq+8)
		c.fused = make([]winCount, nq+8)
		c.fan = make([]int32, nq+8)
	}
	var fused []winCount
	var cfan, fan []int32
	if one != nil {
		fused, cfan, fan = c.fused[:cap(c.fused)], c.fan[:cap(c.fan)], L.fan
	}
	n := gatherCandidates(st.v, st.drift, L.theta, one, fan, c.cand[:cap(c.cand)], c.v[:cap(c.v)], c.d[:cap(c.d)], c.th[:cap(c.th)], fused, cfan)
	c.cand, c.v, c.d, c.th = c.cand[:n], c.v[:n], c.d[:n], c.th[:n]
	c.fused, c.fan = c.fused[:0], c.fan[:0]
	if one != nil {
		c.fused, c.fan = c.fused[:n], c.fan[:n]
	}
	c.userOn = rec != nil && one != nil // only the fused paths: others go through observe
	c.rec, c.recK, c.recPos = rec, k, pos
	// Pad to a multiple of 8 for the kernel with neurons that never fire.
	for len(c.v)%8 != 0 {
		c.v = append(c.v, 0)
		c.d = append(c.d, 0)
		c.th = append(c.th, float32(math.Inf(1)))
	}
	c.words = (len(c.v) + 63) / 64
	c.h = max(1, min(int(T), chunk))
	if need := c.h * c.words; cap(c.bits) < need {
		c.bits = make([]uint64, need)
	}
	c.bits = c.bits[:c.h*c.words]
	c.from, c.filled, c.T = 1, 0, T
	c.recorded = 0
	c.alpha, c.hard = L.alpha, L.hard
}

// stepBits returns the spike bitmap of step t over the candidates
// (steps are asked in order), computing the next h steps when needed.
// The fused paths leave a step's bits as they are (the next chunk clears
// them all before it is computed), so a step may be read again.
func (c *constLayer) stepBits(t int32, updates *int64) []uint64 {
	if t >= c.from+c.filled {
		if c.userOn {
			c.recordChunk(t - 1)
		}
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

// recordChunk hands the steps of the current chunk not yet recorded, up
// to step last, to the recording of a fused path (userOn): all at once, so
// that the set takes each neuron's train over the chunk rather than
// each spike (network.SpikeSet.AddSteps). It is called before a chunk is
// replaced (stepBits) and when the image ends (Simulator.recordChunks),
// so the steps computed ahead of an early exit are never recorded.
func (c *constLayer) recordChunk(last int32) {
	first := max(c.recorded+1, c.from)
	last = min(last, c.from+c.filled-1)
	if last < first {
		return
	}
	s := int(first - c.from)
	c.rec.AddSteps(c.recK, int(first), int(last-first+1), c.bits[s*c.words:], c.words, c.cand, c.recPos)
	c.recorded = last
}

// stepList appends step t's spikes after a fused path (candidate indices)
// to list, for whoever watches them: a second pass over the step's bits,
// made only then, so that the fused paths stay as lean as they are
// without a watcher.
func (c *constLayer) stepList(t int32, list []int32) []int32 {
	s := int(t - c.from) // computed by the fused path just before
	for wi, wd := range c.bits[s*c.words : (s+1)*c.words] {
		base := wi << 6
		for wd != 0 {
			list = append(list, int32(base+bits.TrailingZeros64(wd)))
			wd &= wd - 1
		}
	}
	return list
}

// internal appends the engine's index of candidates idx to dst.
func (c *constLayer) internal(idx, dst []int32) []int32 {
	for _, i := range idx {
		dst = append(dst, c.cand[i])
	}
	return dst
}

// sops is the fused paths' SOP count: Σ count·fan over the candidates.
func (c *constLayer) sops() int64 {
	var s0, s1 int64
	fan := c.fan[:len(c.fused)]
	i := 0
	for ; i+2 <= len(c.fused); i += 2 {
		s0 += int64(c.fused[i].count) * int64(fan[i])
		s1 += int64(c.fused[i+1].count) * int64(fan[i+1])
	}
	for ; i < len(c.fused); i++ {
		s0 += int64(c.fused[i].count) * int64(fan[i])
	}
	return s0 + s1
}

// flushCounts adds the fused paths' per-candidate spike counts to the
// layer's per-neuron counts (at the end of an image).
func (c *constLayer) flushCounts(counts []int32) {
	for i, f := range c.fused {
		counts[c.cand[i]] += f.count
	}
}
