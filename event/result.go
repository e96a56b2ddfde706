package event

import "github.com/evsnn/evsnn/network"

// Work counts what the engine actually did for one image or a run, per
// layer of neurons (the spiking layers, then the readout). It is not part
// of the SNN's result: SOPs in network.LayerStats count the synaptic
// operations the spikes cause whatever the engine; Adds counts the
// additions this engine performed after merging pooled spikes.
type Work struct {
	Events  []int64 // fan-out events delivered into the layer (after pool merging)
	Adds    []int64 // synaptic additions performed into the layer
	Updates []int64 // neuron updates (touched neurons)
	Replays []int64 // skipped steps replayed during catch-up
	Checks  []int64 // crossing-queue entries popped that were still valid
	// PoolChecks counts the window comparisons of the count-gated
	// MaxPools (one per input spike and window containing it).
	PoolChecks int64
}

func newWork(n int) Work {
	return Work{Events: make([]int64, n), Adds: make([]int64, n), Updates: make([]int64, n), Replays: make([]int64, n), Checks: make([]int64, n)}
}

func (w *Work) reset() {
	clear(w.Events)
	clear(w.Adds)
	clear(w.Updates)
	clear(w.Replays)
	clear(w.Checks)
	w.PoolChecks = 0
}

// Add adds o to w (both must come from the same network).
func (w *Work) Add(o *Work) {
	if w.Events == nil {
		*w = newWork(len(o.Events))
	}
	for i := range o.Events {
		w.Events[i] += o.Events[i]
		w.Adds[i] += o.Adds[i]
		w.Updates[i] += o.Updates[i]
		w.Replays[i] += o.Replays[i]
		w.Checks[i] += o.Checks[i]
	}
	w.PoolChecks += o.PoolChecks
}

// TotalAdds is the sum of Adds over layers.
func (w *Work) TotalAdds() int64 {
	var s int64
	for _, a := range w.Adds {
		s += a
	}
	return s
}

// ImageResult is what one image's simulation produces: the
// network.ImageRecord both engines fill (per-layer slices indexed by
// spiking layer, in network order; the readout is not a spiking layer),
// and what the engine did.
type ImageResult struct {
	network.ImageRecord
	// Work is what the engine did for this image.
	Work Work
	// RecordRaster asks RunImage to record every spike in Raster
	// (ordered by step, layer and neuron, in the network's C,H,W order).
	// It allocates; leave it off for timing.
	RecordRaster bool
	// steps is the T it was made for.
	steps int
}

func (r *ImageResult) reset() {
	r.ImageRecord.Reset()
	r.Work.reset()
}

// dotCounts is Σ counts[i]·fan[i] (the SOPs of a layer's spike counts),
// with four sums so that the adds do not wait on each other.
func dotCounts(counts, fan []int32) int64 {
	fan = fan[:len(counts)]
	var s0, s1, s2, s3 int64
	i := 0
	for ; i+4 <= len(counts); i += 4 {
		c, f := counts[i:i+4:i+4], fan[i:i+4:i+4]
		s0 += int64(c[0]) * int64(f[0])
		s1 += int64(c[1]) * int64(f[1])
		s2 += int64(c[2]) * int64(f[2])
		s3 += int64(c[3]) * int64(f[3])
	}
	for ; i < len(counts); i++ {
		s0 += int64(counts[i]) * int64(fan[i])
	}
	return s0 + s1 + s2 + s3
}
