package event

import (
	"slices"

	"github.com/evsnn/evsnn/network"
)

// recordPositions tabulates, for a recording run, each internal index of
// a layer of grid g and network shape sh → the position the recording
// stores its neuron at (network.SpikePosition of its network index), so
// that recording a spike is a table load and a bit set
// (network.SpikeSet.AddMapped). nil when the positions are the internal
// indices, as for a layer of one channel or of one row or column: the
// engine's channel-last order and the recording's column-major one agree
// there.
func recordPositions(g grid, sh network.Shape) []uint32 {
	pos := make([]uint32, g.size())
	identity := true
	for q := range pos {
		pos[q] = uint32(network.SpikePosition(sh, g.user(q)))
		identity = identity && pos[q] == uint32(q)
	}
	if identity {
		return nil
	}
	return pos
}

// observeConst hands the spikes of a constant-current layer's fused path,
// candidate indices (see constLayer.init), to the tests' hook and the
// raster; the recording has them by chunk (constLayer.recordChunk).
func (s *Simulator) observeConst(k int, t int32, idx []int32, res *ImageResult) {
	st := &s.layers[k]
	q := st.cl.internal(idx, st.list[:0])
	st.list = q
	if s.spikeHook != nil {
		s.spikeHook(k, t, q)
	}
	if res.RecordRaster {
		s.record(k, t, q, res)
	}
}

// observe hands the spikes of layer k at step t to whoever watches them:
// the recording (RecordSpikes), the raster, the tests' hook.
func (s *Simulator) observe(k int, t int32, spikes []int32, res *ImageResult) {
	if s.rec != nil {
		res.Recorded.AddMapped(k, int(t), spikes, s.rec[k])
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
