package network

import (
	"fmt"
	"slices"
	"time"
)

// LayerStats are the counts of one spiking layer over a whole run.
type LayerStats struct {
	Name    string `json:"name"`
	Layer   int    `json:"layer"`   // index in Network.Layers
	Neurons int    `json:"neurons"` // per image
	Spikes  int64  `json:"spikes"`  // over all images and steps
	SOPs    int64  `json:"sops"`    // synaptic operations those spikes caused
	// SpikesByStep[t-1] is the number of spikes at step t over all images.
	SpikesByStep []int64 `json:"spikes_by_step"`
	// FirstSpikeSum is the sum over (image, neuron) pairs that fired at
	// all of the step of their first spike; FirstSpikers counts the pairs.
	FirstSpikeSum int64 `json:"first_spike_sum"`
	FirstSpikers  int64 `json:"first_spikers"`
}

// SimResult is what a simulation run produces. Both engines fill in every
// field the same way, so results can be compared field by field.
type SimResult struct {
	Engine   string   `json:"engine"`
	T        int      `json:"T"`
	Images   int      `json:"images"`
	Encoding Encoding `json:"encoding"`
	// InputSpikes are the Poisson input spikes of all images and steps,
	// and InputSOPs the synaptic operations they stand for (each counts
	// the fan-out of its pixel into the first weighted layer, FanOut(-1)).
	// Both are zero with direct input, whose current is computed once per
	// image instead.
	InputSpikes int64 `json:"input_spikes"`
	InputSOPs   int64 `json:"input_sops"`
	// CorrectByStep[t-1] is how many images were predicted correctly
	// after t steps (argmax of the accumulated readout, first on ties).
	// Nil when no labels were given.
	CorrectByStep []int `json:"correct_by_step,omitempty"`
	// Predictions are the predicted classes after T steps, per image.
	Predictions []int `json:"predictions"`
	// Steps[i] is the number of steps image i was simulated for: T, or
	// fewer with an early-exit rule (SimOptions.Exit).
	Steps []int `json:"-"`
	// ImageSpikes[i][k] is the number of spikes of spiking layer k for image i.
	ImageSpikes [][]int64 `json:"-"`
	// Outputs holds images × classes readout accumulators, if kept.
	Outputs []float32 `json:"-"`
	// Counts[k] holds images × neurons spike counts of spiking layer k, if kept.
	Counts [][]int32    `json:"-"`
	Layers []LayerStats `json:"layers"`
	// Raster holds the spikes of the first image, ordered by step, layer
	// and neuron, when SimOptions.Raster was set.
	Raster []RasterEvent `json:"-"`
	Wall   time.Duration `json:"-"`

	labels  []int // of the images, while engines fill the result
	classes int   // size of the readout
	// spikeLayout lays out recorded spikes when the run records them.
	spikeLayout *spikeLayout
}

// AccuracyByStep is CorrectByStep divided by the number of images.
func (r *SimResult) AccuracyByStep() []float64 {
	if r.CorrectByStep == nil || r.Images == 0 {
		return nil
	}
	acc := make([]float64, len(r.CorrectByStep))
	for i, c := range r.CorrectByStep {
		acc[i] = float64(c) / float64(r.Images)
	}
	return acc
}

// ImageRecord is what the simulation of one image contributes to a
// SimResult. Both engines fill one per image (reusing it: NewImageRecord
// allocates, Reset clears) and hand it to a Tally. Per-layer slices are
// indexed by spiking layer, in network order.
type ImageRecord struct {
	// Steps is the number of steps simulated: T, or fewer when an Exit
	// rule stopped the image early.
	Steps int
	// Prediction is the argmax of the readout after T steps (first on ties).
	Prediction int
	// PredictionByStep[t-1] is the argmax after t steps.
	PredictionByStep []int
	// Output is the readout accumulator after T steps.
	Output []float32
	// Spikes, SOPs, FirstSpikeSum and FirstSpikers are per spiking layer,
	// with the meaning of LayerStats.
	Spikes        []int64
	SOPs          []int64
	FirstSpikeSum []int64
	FirstSpikers  []int64
	// SpikesByStep[k][t-1] is the number of spikes of spiking layer k at
	// step t.
	SpikesByStep [][]int32
	// InputSpikes and InputSOPs count the Poisson input spikes and the
	// SOPs they stand for (SimResult); zero with direct input.
	InputSpikes, InputSOPs int64
	// Counts[k] holds the per-neuron spike counts of spiking layer k in the
	// network's (C,H,W) order; nil unless SimOptions.KeepCounts is set.
	Counts [][]int32
	// Raster holds the image's spikes (ordered by step, layer and neuron)
	// when the engine was asked to record them.
	Raster []RasterEvent
	// Recorded holds every spike of the image (see SpikeSet) when
	// SimOptions.RecordSpikes is set; nil otherwise.
	Recorded *SpikeSet
}

// Reset clears the record for the next image, keeping its memory.
func (r *ImageRecord) Reset() {
	r.Steps = 0
	r.Prediction = 0
	clear(r.PredictionByStep)
	clear(r.Output)
	clear(r.Spikes)
	clear(r.SOPs)
	clear(r.FirstSpikeSum)
	clear(r.FirstSpikers)
	for _, s := range r.SpikesByStep {
		clear(s)
	}
	for _, c := range r.Counts {
		clear(c)
	}
	r.InputSpikes, r.InputSOPs = 0, 0
	r.Raster = r.Raster[:0]
	if r.Recorded != nil {
		r.Recorded.Reset()
	}
}

// NewSimResult prepares the result of a run of engine over count images of
// net (an SNN), with or without labels (one per image), for opts: every
// per-image slot and every per-layer sum is allocated and zero. Engines
// fill it through Tallies (NewTally, Tally.Add, AddTally), one per worker.
func NewSimResult(net *Network, engine string, count int, labels []int, opts SimOptions) (*SimResult, error) {
	shapes, err := net.Shapes()
	if err != nil {
		return nil, err
	}
	if labels != nil && len(labels) != count {
		return nil, fmt.Errorf("%d labels for %d images", len(labels), count)
	}
	spiking := net.SpikingLayers()
	res := &SimResult{
		Engine:      engine,
		T:           opts.T,
		Images:      count,
		Encoding:    opts.Encoding,
		Predictions: make([]int, count),
		Steps:       make([]int, count),
		ImageSpikes: make([][]int64, count),
		Layers:      make([]LayerStats, len(spiking)),
		labels:      labels,
		classes:     shapes[len(shapes)-1].Size(),
	}
	if res.Encoding == "" {
		res.Encoding = EncodingDirect
	}
	flat := make([]int64, count*len(spiking))
	for i := range res.ImageSpikes {
		res.ImageSpikes[i] = flat[i*len(spiking) : (i+1)*len(spiking) : (i+1)*len(spiking)]
	}
	if labels != nil {
		res.CorrectByStep = make([]int, opts.T)
	}
	if opts.KeepOutputs {
		res.Outputs = make([]float32, count*res.classes)
	}
	if opts.KeepCounts {
		res.Counts = make([][]int32, len(spiking))
	}
	for k, li := range spiking {
		res.Layers[k] = LayerStats{
			Name:         net.Layers[li].Name(),
			Layer:        li,
			Neurons:      shapes[li].Size(),
			SpikesByStep: make([]int64, opts.T),
		}
		if res.Counts != nil {
			res.Counts[k] = make([]int32, count*shapes[li].Size())
		}
	}
	if opts.RecordSpikes {
		sh := make([]Shape, len(spiking))
		for k, li := range spiking {
			sh[k] = shapes[li]
		}
		res.spikeLayout = newSpikeLayout(sh, opts.T)
	}
	return res, nil
}

// NewImageRecord allocates a record sized for this result's network and T
// (with per-neuron counts if the result keeps them).
func (r *SimResult) NewImageRecord() *ImageRecord {
	n := len(r.Layers)
	rec := &ImageRecord{
		PredictionByStep: make([]int, r.T),
		Output:           make([]float32, r.classes),
		Spikes:           make([]int64, n),
		SOPs:             make([]int64, n),
		FirstSpikeSum:    make([]int64, n),
		FirstSpikers:     make([]int64, n),
		SpikesByStep:     make([][]int32, n),
	}
	for k := range rec.SpikesByStep {
		rec.SpikesByStep[k] = make([]int32, r.T)
	}
	if r.Counts != nil {
		rec.Counts = make([][]int32, n)
		for k, ls := range r.Layers {
			rec.Counts[k] = make([]int32, ls.Neurons)
		}
	}
	if r.spikeLayout != nil {
		rec.Recorded = r.spikeLayout.newSet()
	}
	return rec
}

// Tally is one worker's share of a run: the per-image slots it fills are
// its own images', and its integer sums are added to the result once the
// run is over (AddTally), so totals do not depend on the number of workers
// or on which worker ran which image.
type Tally struct {
	res              *SimResult
	correct          []int
	layers           []LayerStats
	inSpikes, inSOPs int64
}

// NewTally returns an empty tally for this result.
func (r *SimResult) NewTally() *Tally {
	t := &Tally{res: r, correct: make([]int, r.T), layers: make([]LayerStats, len(r.Layers))}
	for k := range t.layers {
		t.layers[k].SpikesByStep = make([]int64, r.T)
	}
	return t
}

// Add records image i of the run (its position in the images given to the
// engine). Different tallies may Add different images concurrently.
func (t *Tally) Add(i int, rec *ImageRecord) {
	r := t.res
	r.Predictions[i] = rec.Prediction
	r.Steps[i] = rec.Steps
	if rec.Steps == 0 { // an engine that never exits early may leave it unset
		r.Steps[i] = r.T
	}
	copy(r.ImageSpikes[i], rec.Spikes)
	if r.labels != nil {
		for s, p := range rec.PredictionByStep {
			if p == r.labels[i] {
				t.correct[s]++
			}
		}
	}
	if r.Outputs != nil {
		copy(r.Outputs[i*r.classes:(i+1)*r.classes], rec.Output)
	}
	for k := range t.layers {
		ls := &t.layers[k]
		ls.Spikes += rec.Spikes[k]
		ls.SOPs += rec.SOPs[k]
		ls.FirstSpikeSum += rec.FirstSpikeSum[k]
		ls.FirstSpikers += rec.FirstSpikers[k]
		for s, c := range rec.SpikesByStep[k] {
			ls.SpikesByStep[s] += int64(c)
		}
		if r.Counts != nil {
			n := r.Layers[k].Neurons
			copy(r.Counts[k][i*n:(i+1)*n], rec.Counts[k])
		}
	}
	t.inSpikes += rec.InputSpikes
	t.inSOPs += rec.InputSOPs
	if i == 0 && len(rec.Raster) > 0 {
		r.Raster = slices.Clone(rec.Raster)
	}
}

// AddTally adds a finished tally's sums to the result.
func (r *SimResult) AddTally(t *Tally) {
	if r.CorrectByStep != nil {
		for s, c := range t.correct {
			r.CorrectByStep[s] += c
		}
	}
	for k := range r.Layers {
		r.Layers[k].add(&t.layers[k])
	}
	r.InputSpikes += t.inSpikes
	r.InputSOPs += t.inSOPs
}

func (ls *LayerStats) add(o *LayerStats) {
	ls.Spikes += o.Spikes
	ls.SOPs += o.SOPs
	ls.FirstSpikeSum += o.FirstSpikeSum
	ls.FirstSpikers += o.FirstSpikers
	for s, c := range o.SpikesByStep {
		ls.SpikesByStep[s] += c
	}
}

// Append adds the images of o, a run of the same network, engine and
// options over the images that follow r's, to r: the per-image slots are
// concatenated and the sums added, so the shards of a run merge into the
// result of the whole run. Wall becomes the sum of the two.
func (r *SimResult) Append(o *SimResult) error {
	switch {
	case o.Engine != r.Engine:
		return fmt.Errorf("engine %q, want %q", o.Engine, r.Engine)
	case o.T != r.T:
		return fmt.Errorf("T = %d, want %d", o.T, r.T)
	case o.Encoding != r.Encoding:
		return fmt.Errorf("encoding %q, want %q", o.Encoding, r.Encoding)
	case len(o.Layers) != len(r.Layers):
		return fmt.Errorf("%d spiking layers, want %d", len(o.Layers), len(r.Layers))
	case (o.CorrectByStep == nil) != (r.CorrectByStep == nil):
		return fmt.Errorf("one part has labels, the other not")
	case (o.Outputs == nil) != (r.Outputs == nil), (o.Counts == nil) != (r.Counts == nil):
		return fmt.Errorf("the parts kept different per-image data")
	}
	for k := range r.Layers {
		if o.Layers[k].Name != r.Layers[k].Name || o.Layers[k].Neurons != r.Layers[k].Neurons {
			return fmt.Errorf("spiking layer %d is %q (%d neurons), want %q (%d)", k, o.Layers[k].Name, o.Layers[k].Neurons, r.Layers[k].Name, r.Layers[k].Neurons)
		}
	}
	if r.Images == 0 && len(o.Raster) > 0 {
		r.Raster = slices.Clone(o.Raster)
	}
	r.Images += o.Images
	r.Predictions = append(r.Predictions, o.Predictions...)
	r.Steps = append(r.Steps, o.Steps...)
	r.ImageSpikes = append(r.ImageSpikes, o.ImageSpikes...)
	r.Outputs = append(r.Outputs, o.Outputs...)
	for k := range r.Counts {
		r.Counts[k] = append(r.Counts[k], o.Counts[k]...)
	}
	for s := range r.CorrectByStep {
		r.CorrectByStep[s] += o.CorrectByStep[s]
	}
	for k := range r.Layers {
		r.Layers[k].add(&o.Layers[k])
	}
	r.InputSpikes += o.InputSpikes
	r.InputSOPs += o.InputSOPs
	r.Wall += o.Wall
	r.labels = nil
	return nil
}
