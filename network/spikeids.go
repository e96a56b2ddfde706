package network

// Spike ids: how an engine hands every spike of an image to a recorder
// (SimOptions.RecordSpikes; package format/spikes writes them to disk).
// Spike (t, n) of spiking layer k — step t = 1..T, neuron n in the
// network's C,H,W order — has the 32-bit id ((t−1) mod B_k)·N_k + n in
// slot first_k + (t−1)/B_k, where N_k is the layer's size and
// B_k = SpikeBlockSteps(N_k, T): the whole run (B_k = T) unless T·N_k
// does not fit 32 bits, in which case the layer's steps are split into
// blocks that each do. Within a slot the ids increase.

// spikeIDSpace is the number of 32-bit ids.
const spikeIDSpace = 1 << 32

// SpikeBlockSteps is the number of steps one slot of a layer of n neurons
// covers: T when T·n ≤ 2³², else ⌊2³²/n⌋.
func SpikeBlockSteps(n, T int) int {
	// int64: spikeIDSpace does not fit a 32-bit int.
	return int(max(1, min(int64(T), spikeIDSpace/int64(n))))
}

// spikeSlots lays out the slots of a result's spiking layers.
type spikeSlots struct {
	block []int // B_k
	first []int // first slot of layer k; first[len] = number of slots
}

func newSpikeSlots(neurons []int, T int) *spikeSlots {
	s := &spikeSlots{block: make([]int, len(neurons)), first: make([]int, len(neurons)+1)}
	for k, n := range neurons {
		s.block[k] = SpikeBlockSteps(n, T)
		s.first[k+1] = s.first[k] + (T+s.block[k]-1)/s.block[k]
	}
	return s
}

// AppendSpikes records the spikes of spiking layer k at step t (neurons
// in increasing order) in SpikeIDs. It is a no-op unless the record was
// made for a run with SimOptions.RecordSpikes.
func (r *ImageRecord) AppendSpikes(k, t int, neurons []int32) {
	s := r.slots
	if s == nil {
		return
	}
	B := s.block[k]
	slot := s.first[k] + (t-1)/B
	base := uint32(((t - 1) % B) * r.neurons[k])
	ids := r.SpikeIDs[slot]
	for _, n := range neurons {
		ids = append(ids, base+uint32(n))
	}
	r.SpikeIDs[slot] = ids
}
