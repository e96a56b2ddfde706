package event

import (
	"math/bits"
	"slices"

	"github.com/evsnn/evsnn/network"
)

// spikeOrder turns a layer's spikes, increasing in the engine's
// channel-last order, into neuron indices increasing in the network's
// C,H,W order, as network.ImageRecord.AppendSpikes takes them: each spike
// sets the bit of its network index in a bitset of the layer, which is
// then drained in order — a table load and a word update per spike, and
// a pass over the layer's words per step, cheaper than any sort while a
// step has more than a spike per few dozen words. Sparser steps (a large,
// quiet layer) sort the converted list instead, so a step never costs in
// proportion to the layer's size.
type spikeOrder struct {
	// identity: the two orders coincide (one channel, or one position).
	identity bool
	chw      []int32  // chw[q]: the network index of internal index q
	bits     []uint64 // scratch, zero between calls
	out      []int32  // scratch
}

func newSpikeOrder(g grid) spikeOrder {
	o := spikeOrder{out: make([]int32, 0, g.size())}
	if g.c == 1 || g.h*g.w == 1 {
		o.identity = true
		return o
	}
	o.chw, o.bits = make([]int32, g.size()), make([]uint64, (g.size()+63)/64)
	for q := range o.chw {
		o.chw[q] = int32(g.user(q))
	}
	return o
}

// chwTable maps each internal index to the network's, nil when they agree.
func (o *spikeOrder) chwTable() []int32 { return o.chw }

// user returns the spikes in the network's order (a scratch slice, valid
// until the next call).
func (o *spikeOrder) user(spikes []int32) []int32 {
	if o.identity || len(spikes) == 0 {
		return spikes
	}
	chw, out := o.chw, o.out[:0]
	if len(spikes)*32 < len(o.bits) {
		for _, q := range spikes {
			out = append(out, chw[q])
		}
		slices.Sort(out)
		o.out = out
		return out
	}
	b := o.bits
	for _, q := range spikes {
		n := uint32(chw[q])
		b[n>>6] |= 1 << (n & 63)
	}
	for wi, w := range b {
		if w == 0 {
			continue
		}
		b[wi] = 0
		base := int32(wi << 6)
		for w != 0 {
			out = append(out, base+int32(bits.TrailingZeros64(w)))
			w &= w - 1
		}
	}
	o.out = out
	return out
}

// observeConst is observe for a constant-current layer's fused path,
// whose spikes are candidate indices (see constLayer.init).
func (s *Simulator) observeConst(k int, t int32, idx []int32, res *ImageResult) {
	st := &s.layers[k]
	cl := st.cl
	if s.rec != nil {
		o := &s.rec[k]
		if cl.userOn {
			// Marked by network index in observeStep: drain in order.
			o.out = drainBits(cl.ubits, nil, o.out[:0])
			res.AppendSpikes(k, int(t), o.out)
		} else {
			res.AppendSpikes(k, int(t), o.user(cl.internal(idx, st.list[:0])))
		}
	}
	if s.spikeHook != nil || res.RecordRaster {
		q := cl.internal(idx, st.list[:0])
		if s.spikeHook != nil {
			s.spikeHook(k, t, q)
		}
		if res.RecordRaster {
			s.record(k, t, q, res)
		}
	}
}

// observe hands the spikes of layer k at step t to whoever watches them:
// the spike ids (RecordSpikes), the raster, the tests' hook.
func (s *Simulator) observe(k int, t int32, spikes []int32, res *ImageResult) {
	if s.rec != nil {
		res.AppendSpikes(k, int(t), s.rec[k].user(spikes))
	}
	if s.spikeHook != nil {
		s.spikeHook(k, t, spikes)
	}
	if res.RecordRaster {
		s.record(k, t, spikes, res)
	}
}

// record appends the spikes of layer k at step t to res.Raster, in the
// network's neuron order.
func (s *Simulator) record(k int, t int32, spikes []int32, res *ImageResult) {
	g := s.p.layers[k].g
	start := len(res.Raster)
	for _, q := range spikes {
		res.Raster = append(res.Raster, network.RasterEvent{Layer: int32(k), Neuron: int32(g.user(int(q))), Step: t})
	}
	if g.c > 1 && g.h*g.w > 1 {
		added := res.Raster[start:]
		slices.SortFunc(added, func(a, b network.RasterEvent) int { return int(a.Neuron - b.Neuron) })
	}
}
