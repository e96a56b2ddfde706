package network

import (
	"fmt"
	"math/bits"
	"slices"
)

// Recorded spikes: how an engine hands every spike of an image to a
// recorder (SimOptions.RecordSpikes; package format/spikes writes them to
// disk). The engines set each spike's bit where the recording stores it,
// so that writing an image out is one pass over its bits, with no sorting
// or conversion of spikes in between.
//
// Spiking layer k of N_k neurons (shape [C,H,W]; any other shape counts as
// [N,1,1]) stores neuron n = (c·H + h)·W + w at position
// p = (w·H + h)·C + c (SpikePosition: image column, then row, then
// channel). Its steps are cut into blocks of B_k = SpikeBlockSteps(N_k, T)
// steps (the whole run unless T·N_k does not fit 32 bits), one slot per
// block, and in the slot of the block starting at step t₀ with S steps the
// spike of neuron n at step t has the 32-bit id
//
//	id = p·S + (t − t₀)
//
// so a slot's ids are its neurons' spike trains, neuron after neuron in
// position order.

// spikeIDSpace is the number of 32-bit ids.
const spikeIDSpace = 1 << 32

// maxDenseSlotWords bounds a dense slot's bitset (8 MB): slots of more ids
// (huge layers) keep a list of ids instead.
const maxDenseSlotWords = 1 << 20

// maxPositionTable is the largest layer whose positions are tabulated
// (16 MB of table); larger ones compute them.
const maxPositionTable = 1 << 22

// SpikeBlockSteps is the number of steps one slot of a layer of n neurons
// covers: T when T·n ≤ 2³², else ⌊2³²/n⌋.
func SpikeBlockSteps(n, T int) int {
	// int64: spikeIDSpace does not fit a 32-bit int.
	return int(max(1, min(int64(T), spikeIDSpace/int64(n))))
}

// SpikePosition is the storage position of neuron n (network order) of a
// layer of the given shape: (w·H + h)·C + c for n = (c·H + h)·W + w of a
// [C,H,W] layer, n itself for other shapes.
func SpikePosition(shape Shape, n int) int {
	if len(shape) != 3 {
		return n
	}
	C, H, W := shape[0], shape[1], shape[2]
	hw := H * W
	c, r := n/hw, n%hw
	h, w := r/W, r%W
	return (w*H+h)*C + c
}

// SpikeSlot is the spikes of one spiking layer over one block of steps, as
// the ids above: in Words, bit id of a dense slot, Dirty marking the
// containers (blocks of 2¹⁶ ids, 1024 words) that may hold one; in IDs, for
// a sparse slot (one too large for a bitset), the ids in no particular
// order. Read only: the set owns them.
type SpikeSlot struct {
	Layer     int // spiking layer
	FirstStep int // t₀, 1-based
	Steps     int // S
	Words     []uint64
	Dirty     []uint64
	IDs       []uint32
}

// Dense reports whether the slot keeps its spikes as a bitset.
func (sl *SpikeSlot) Dense() bool { return sl.Words != nil }

// spikeLayer is the layout of one spiking layer's slots.
type spikeLayer struct {
	shape Shape
	n     int
	block int      // B
	first int      // first slot
	pos   []uint32 // n → p, nil when p = n or when not tabulated
	calc  bool     // positions computed (not tabulated, not identity)
}

// spikeLayout is the slot layout shared by the sets of one run.
type spikeLayout struct {
	T      int
	layers []spikeLayer
	slots  int
}

func newSpikeLayout(shapes []Shape, T int) *spikeLayout {
	l := &spikeLayout{T: T, layers: make([]spikeLayer, len(shapes))}
	for k, sh := range shapes {
		n := sh.Size()
		ly := spikeLayer{shape: slices.Clone(sh), n: n, block: SpikeBlockSteps(n, T), first: l.slots}
		if positionsPermute(sh) {
			if n <= maxPositionTable {
				ly.pos = make([]uint32, n)
				for i := range ly.pos {
					ly.pos[i] = uint32(SpikePosition(sh, i))
				}
			} else {
				ly.calc = true
			}
		}
		l.layers[k] = ly
		l.slots += (T + ly.block - 1) / ly.block
	}
	return l
}

// positionsPermute reports whether SpikePosition is not the identity.
func positionsPermute(sh Shape) bool {
	if len(sh) != 3 {
		return false
	}
	C, H, W := sh[0], sh[1], sh[2]
	return !(H*W == 1 || (C == 1 && (H == 1 || W == 1)))
}

// SpikeSet holds every spike of one image, slot by slot (see SpikeSlot),
// for a recorder: engines add each step's spikes, the recorder reads the
// slots, Reset clears the set for the next image in time proportional to
// what it held. Not safe for concurrent use.
type SpikeSet struct {
	lay   *spikeLayout
	slots []SpikeSlot
}

// NewSpikeSet returns an empty set for spiking layers of the given shapes
// over T steps (engines get theirs from SimResult.NewImageRecord).
func NewSpikeSet(shapes []Shape, T int) (*SpikeSet, error) {
	if T < 1 {
		return nil, fmt.Errorf("spike set: T = %d", T)
	}
	for k, sh := range shapes {
		if n := sh.Size(); n < 1 || int64(n) > spikeIDSpace {
			return nil, fmt.Errorf("spike set: layer %d of shape %v: between 1 and 2³² neurons", k, sh)
		}
	}
	return newSpikeLayout(shapes, T).newSet(), nil
}

func (l *spikeLayout) newSet() *SpikeSet {
	s := &SpikeSet{lay: l, slots: make([]SpikeSlot, 0, l.slots)}
	for k, ly := range l.layers {
		for t0 := 1; t0 <= l.T; t0 += ly.block {
			S := min(ly.block, l.T-t0+1)
			sl := SpikeSlot{Layer: k, FirstStep: t0, Steps: S}
			if nw := (uint64(S)*uint64(ly.n) + 63) / 64; nw <= maxDenseSlotWords {
				containers := (nw + 1023) / 1024
				sl.Words = make([]uint64, nw)
				sl.Dirty = make([]uint64, (containers+63)/64)
			}
			s.slots = append(s.slots, sl)
		}
	}
	return s
}

// T is the number of steps the set covers.
func (s *SpikeSet) T() int { return s.lay.T }

// NumLayers is the number of spiking layers.
func (s *SpikeSet) NumLayers() int { return len(s.lay.layers) }

// Shape returns spiking layer k's shape (read only).
func (s *SpikeSet) Shape(k int) Shape { return s.lay.layers[k].shape }

// Slots returns the set's slots, layer by layer and block by block (read
// only).
func (s *SpikeSet) Slots() []SpikeSlot { return s.slots }

// slotOf returns the slot of layer k holding step t and t's offset in it.
func (s *SpikeSet) slotOf(k, t int) (*SpikeSlot, uint64) {
	ly := &s.lay.layers[k]
	j := (t - 1) / ly.block
	return &s.slots[ly.first+j], uint64(t - 1 - j*ly.block)
}

// setBit marks id v of a dense slot.
func setBit(w, dirty []uint64, v uint64) {
	w[v>>6] |= 1 << (v & 63)
	dirty[v>>22] |= 1 << ((v >> 16) & 63)
}

// Add records the spikes of spiking layer k at step t; neurons are in the
// network's order, each in range and given once per step.
func (s *SpikeSet) Add(k, t int, neurons []int32) {
	ly := &s.lay.layers[k]
	switch {
	case ly.pos != nil:
		s.AddMapped(k, t, neurons, ly.pos)
	case !ly.calc:
		s.AddMapped(k, t, neurons, nil)
	default:
		sl, dt := s.slotOf(k, t)
		S := uint64(sl.Steps)
		for _, n := range neurons {
			v := uint64(SpikePosition(ly.shape, int(n)))*S + dt
			if sl.Words != nil {
				setBit(sl.Words, sl.Dirty, v)
			} else {
				sl.IDs = append(sl.IDs, uint32(v))
			}
		}
	}
}

// AddMapped records the spikes of spiking layer k at step t given in the
// caller's numbering: spike i is at position pos[idx[i]] (idx[i] itself
// if pos is nil). An engine whose neurons are not in the network's order
// tabulates, once, its own index → SpikePosition.
func (s *SpikeSet) AddMapped(k, t int, idx []int32, pos []uint32) {
	sl, dt := s.slotOf(k, t)
	S := uint64(sl.Steps)
	switch {
	case sl.Words == nil:
		for _, i := range idx {
			p := uint64(i)
			if pos != nil {
				p = uint64(pos[i])
			}
			sl.IDs = append(sl.IDs, uint32(p*S+dt))
		}
	case len(sl.Dirty) == 1:
		// At most 64 containers (every layer of the usual networks): the
		// dirty marks gather in a register, so that no spike waits for
		// the previous one's store.
		w, dirty := sl.Words, uint64(0)
		for _, i := range idx {
			p := uint64(uint32(i))
			if pos != nil {
				p = uint64(pos[i])
			}
			v := p*S + dt
			w[v>>6] |= 1 << (v & 63)
			dirty |= 1 << ((v >> 16) & 63)
		}
		sl.Dirty[0] |= dirty
	default:
		for _, i := range idx {
			p := uint64(uint32(i))
			if pos != nil {
				p = uint64(pos[i])
			}
			setBit(sl.Words, sl.Dirty, p*S+dt)
		}
	}
}

// AddBits records the spikes of spiking layer k at step t given as a
// bitset: bit i of words (bit i%64 of word i/64) is a spike of the
// caller's neuron q = idx[i] (i if idx is nil), at position pos[q] (q if
// pos is nil).
func (s *SpikeSet) AddBits(k, t int, words []uint64, idx []int32, pos []uint32) {
	sl, dt := s.slotOf(k, t)
	S := uint64(sl.Steps)
	w := sl.Words
	if w == nil || len(sl.Dirty) != 1 {
		for wi, x := range words {
			base := wi << 6
			for x != 0 {
				p := mapped(base+bits.TrailingZeros64(x), idx, pos)
				x &= x - 1
				if w != nil {
					setBit(w, sl.Dirty, p*S+dt)
				} else {
					sl.IDs = append(sl.IDs, uint32(p*S+dt))
				}
			}
		}
		return
	}
	// As AddMapped: dirty marks in a register.
	dirty := uint64(0)
	for wi, x := range words {
		base := wi << 6
		for x != 0 {
			v := mapped(base+bits.TrailingZeros64(x), idx, pos)*S + dt
			x &= x - 1
			w[v>>6] |= 1 << (v & 63)
			dirty |= 1 << ((v >> 16) & 63)
		}
	}
	sl.Dirty[0] |= dirty
}

// mapped is the position of bit i of AddBits and AddSteps.
func mapped(i int, idx []int32, pos []uint32) uint64 {
	q := i
	if idx != nil {
		q = int(idx[i])
	}
	if pos != nil {
		return uint64(pos[q])
	}
	return uint64(q)
}

// Reset empties the set, clearing only the containers its spikes touched.
func (s *SpikeSet) Reset() {
	for i := range s.slots {
		sl := &s.slots[i]
		sl.IDs = sl.IDs[:0]
		forDirty(sl, func(chunk []uint64) { clear(chunk) })
		clear(sl.Dirty)
	}
}

// forDirty calls f with the words of each container of a dense slot that
// may hold spikes, in increasing order.
func forDirty(sl *SpikeSlot, f func(chunk []uint64)) {
	for di, d := range sl.Dirty {
		for d != 0 {
			key := di<<6 + bits.TrailingZeros64(d)
			d &= d - 1
			f(sl.Words[key<<10 : min(len(sl.Words), (key+1)<<10)])
		}
	}
}

// Len returns the number of spikes in slot i.
func (s *SpikeSet) Len(i int) int {
	sl := &s.slots[i]
	if !sl.Dense() {
		return len(sl.IDs)
	}
	n := 0
	forDirty(sl, func(chunk []uint64) {
		for _, x := range chunk {
			n += bits.OnesCount64(x)
		}
	})
	return n
}

// IDs appends the ids of slot i to dst in increasing order (repeats of a
// sparse slot once).
func (s *SpikeSet) IDs(i int, dst []uint32) []uint32 {
	sl := &s.slots[i]
	if !sl.Dense() {
		start := len(dst)
		dst = append(dst, sl.IDs...)
		slices.Sort(dst[start:])
		return append(dst[:start], slices.Compact(dst[start:])...)
	}
	for di, d := range sl.Dirty {
		for d != 0 {
			key := di<<6 + bits.TrailingZeros64(d)
			d &= d - 1
			for j := key << 10; j < min(len(sl.Words), (key+1)<<10); j++ {
				for x := sl.Words[j]; x != 0; x &= x - 1 {
					dst = append(dst, uint32(j<<6+bits.TrailingZeros64(x)))
				}
			}
		}
	}
	return dst
}

// Spikes returns the spikes of the set as raster events (Layer the
// spiking layer, Neuron in the network's order), ordered by step, layer
// and neuron as ImageRecord.Raster: what tests compare.
func (s *SpikeSet) Spikes() []RasterEvent {
	var ev []RasterEvent
	var ids []uint32
	for i := range s.slots {
		sl := &s.slots[i]
		ly := &s.lay.layers[sl.Layer]
		inv := inversePositions(ly.shape)
		S := uint32(sl.Steps)
		ids = s.IDs(i, ids[:0])
		for _, id := range ids {
			ev = append(ev, RasterEvent{Layer: int32(sl.Layer), Neuron: int32(inv(int(id / S))), Step: int32(sl.FirstStep + int(id%S))})
		}
	}
	SortRaster(ev)
	return ev
}

// inversePositions returns the neuron at each position of a layer.
func inversePositions(sh Shape) func(p int) int {
	if len(sh) != 3 {
		return func(p int) int { return p }
	}
	C, H, W := sh[0], sh[1], sh[2]
	return func(p int) int {
		c, q := p%C, p/C
		h, w := q%H, q/H
		return (c*H+h)*W + w
	}
}

// Positions returns layer k's table of SpikePosition by network neuron
// index, or nil when positions are the neuron indices or the layer is too
// large to tabulate (read only).
func (s *SpikeSet) Positions(k int) []uint32 { return s.lay.layers[k].pos }

// AddSteps records the spikes of spiking layer k at the n steps t0 …
// t0+n−1 given as bitsets: step t0+s's is steps[s*stride : (s+1)*stride],
// its bits standing for neurons as AddBits's. The same as AddBits step by
// step, and faster for a layer
// whose steps are known in advance (the event engine's constant-current
// layers): the bits of 64 neurons over the n steps are transposed into
// each neuron's spike train, which lands in the slot with one or two
// word updates, instead of a bit update per spike that visits every
// neuron's word at every step.
func (s *SpikeSet) AddSteps(k, t0, n int, steps []uint64, stride int, idx []int32, pos []uint32) {
	if n <= 0 {
		return
	}
	sl, dt := s.slotOf(k, t0)
	if n > 64 || sl.Words == nil || int(dt)+n > sl.Steps {
		for st := range n {
			s.AddBits(k, t0+st, steps[st*stride:(st+1)*stride], idx, pos)
		}
		return
	}
	S := uint64(sl.Steps)
	w := sl.Words
	oneDirty := len(sl.Dirty) == 1
	dirty := uint64(0)
	last := uint64(n - 1)
	var m [64]uint64
	for wi := range stride {
		fired := uint64(0)
		for st := range n {
			x := steps[st*stride+wi]
			m[st] = x
			fired |= x
		}
		if fired == 0 {
			continue
		}
		// half: neuron j's train, bit s for step t0+s, is the low half of
		// m[j] and neuron 32+j's the high half (n ≤ 32), else m[j].
		half := n <= 32
		if half {
			clear(m[n:32])
			transpose32x2((*[32]uint64)(m[:32]))
		} else {
			clear(m[n:])
			transpose64(&m)
		}
		base := wi << 6
		for y := fired; y != 0; y &= y - 1 {
			j := bits.TrailingZeros64(y)
			v := mapped(base+j, idx, pos)*S + dt
			tr := m[j]
			if half {
				tr = uint64(uint32(m[j&31] >> (j &^ 31)))
			}
			sh := v & 63
			w[v>>6] |= tr << sh
			if sh+last >= 64 {
				w[v>>6+1] |= tr >> (64 - sh)
			}
			if oneDirty {
				dirty |= 1<<((v>>16)&63) | 1<<(((v+last)>>16)&63)
			} else {
				sl.Dirty[v>>22] |= 1 << ((v >> 16) & 63)
				e := v + last
				sl.Dirty[e>>22] |= 1 << ((e >> 16) & 63)
			}
		}
	}
	if oneDirty {
		sl.Dirty[0] |= dirty
	}
}

// transpose64 transposes the 64×64 bit matrix whose row r is a[r] (bit c
// the column c): afterwards bit c of a[r] is what bit r of a[c] was. It
// swaps the off-diagonal blocks of 32, 16, … 1 bits (Hacker's Delight
// 7–3, with bit 0 as the first column), one loop per block size so that
// every shift is a constant.
func transpose64(a *[64]uint64) {
	for k := range 32 {
		t := (a[k]>>32 ^ a[k+32]) & 0x00000000FFFFFFFF
		a[k+32] ^= t
		a[k] ^= t << 32
	}
	transpose32x2((*[32]uint64)(a[:32]))
	transpose32x2((*[32]uint64)(a[32:]))
}

// transpose32x2 transposes the two 32×32 bit matrices held side by side
// in a, the one in the low halves of its words and the one in the high
// halves: the last five steps of transpose64.
func transpose32x2(a *[32]uint64) {
	for k := range 16 {
		t := (a[k]>>16 ^ a[k+16]) & 0x0000FFFF0000FFFF
		a[k+16] ^= t
		a[k] ^= t << 16
	}
	for b := 0; b < 32; b += 16 {
		for k := b; k < b+8; k++ {
			t := (a[k]>>8 ^ a[k+8]) & 0x00FF00FF00FF00FF
			a[k+8] ^= t
			a[k] ^= t << 8
		}
	}
	for b := 0; b < 32; b += 8 {
		for k := b; k < b+4; k++ {
			t := (a[k]>>4 ^ a[k+4]) & 0x0F0F0F0F0F0F0F0F
			a[k+4] ^= t
			a[k] ^= t << 4
		}
	}
	for b := 0; b < 32; b += 4 {
		for k := b; k < b+2; k++ {
			t := (a[k]>>2 ^ a[k+2]) & 0x3333333333333333
			a[k+2] ^= t
			a[k] ^= t << 2
		}
	}
	for k := 0; k < 32; k += 2 {
		t := (a[k]>>1 ^ a[k+1]) & 0x5555555555555555
		a[k+1] ^= t
		a[k] ^= t << 1
	}
}
