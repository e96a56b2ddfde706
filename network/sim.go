package network

import (
	"fmt"
	"slices"
)

// Encoding is how an image becomes the input of the SNN (SPEC §2).
type Encoding string

// The input encodings.
const (
	// EncodingDirect feeds the analog image at every step: s_0(t) = x.
	EncodingDirect Encoding = "direct"
	// EncodingPoisson feeds s_0(t)_i = 1 with probability x_i (Bernoulli
	// per step), drawn by PoissonSpike from the run's seed.
	EncodingPoisson Encoding = "poisson"
)

// SimOptions configure one simulation run. Both engines take the same.
type SimOptions struct {
	T        int      // steps, ≥ 1
	Encoding Encoding // direct (default when empty) or poisson
	Seed     uint64   // seed of the Poisson input
	// ImageOffset is the dataset index of the first image given; Poisson
	// input is drawn per (seed, dataset index, step, pixel), so a run over
	// a slice of the data sees the same spikes as a run over all of it.
	ImageOffset int
	// KeepOutputs keeps each image's output accumulator after T steps.
	KeepOutputs bool
	// KeepCounts keeps each image's per-neuron spike counts (calibration
	// and profiles need the rates s̄_l = θ·count/T).
	KeepCounts bool
	// Workers is the number of goroutines (images are independent);
	// 0 means GOMAXPROCS. Results do not depend on it.
	Workers int
	// Progress, if set, is called with the number of images finished so far.
	Progress func(done int)
	// Raster, if true, records every spike of the first image of the run
	// in SimResult.Raster (for spike-raster plots).
	Raster bool
	// Delays, if not nil, has one entry per layer of the network: Delays[i]
	// is the synaptic delay in steps (≥ 0) of the projection into weighted
	// layer i (a Conv2d or Linear): a spike emitted at step t reaches layer
	// i's input current at step t+Delays[i]. Converted networks have no
	// delays (a spike reaches the next layer in the same step, SPEC §2);
	// networks built through the Go API may set them. Entries of
	// non-weighted layers must be 0.
	Delays []int
	// Exit, if set, stops an image early once its prediction is settled
	// (see Exit); nil runs every image for T steps.
	Exit Exit
	// RecordSpikes makes the engines fill ImageRecord.Recorded with every
	// spike of every image (for OnImage to write them out).
	RecordSpikes bool
	// OnImage, if set, is called with each image's record (i is its
	// position in the run) as soon as the image is done, from the worker
	// goroutines, concurrently: a recorder writes the image's spikes there.
	// The record is reused after the call returns. An error stops the run.
	OnImage func(i int, rec *ImageRecord) error
}

// Check validates the options.
func (o *SimOptions) Check() error {
	if o.T < 1 || o.T > 1<<20 {
		return fmt.Errorf("T = %d: must be between 1 and %d", o.T, 1<<20)
	}
	switch o.Encoding {
	case "":
		o.Encoding = EncodingDirect
	case EncodingDirect, EncodingPoisson:
	default:
		return fmt.Errorf("encoding %q: want direct or poisson", o.Encoding)
	}
	if o.Delays != nil {
		for i, d := range o.Delays {
			if d < 0 || d > 1<<16 {
				return fmt.Errorf("delay of layer %d is %d: must be between 0 and %d", i, d, 1<<16)
			}
		}
	}
	if o.Workers < 0 {
		return fmt.Errorf("workers = %d: must be ≥ 0", o.Workers)
	}
	return nil
}

// Engine simulates a converted network on a batch of images.
type Engine interface {
	// Name is "dense" or "event".
	Name() string
	// Run simulates images (count × Input.Size() values) for opts.T steps.
	// labels may be nil; otherwise it has one entry per image.
	Run(net *Network, images []float32, labels []int, opts SimOptions) (*SimResult, error)
}

// splitmix64 is a strong 64-bit mixer (Steele et al.), used as a
// counter-based generator so that every input spike depends only on
// (seed, image, step, pixel), not on batching or goroutine scheduling.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// PoissonUniform is the uniform number in [0,1) that decides whether pixel
// of image (its dataset index) spikes at step t (1-based) for a seed.
func PoissonUniform(seed uint64, image, step, pixel int) float32 {
	h := splitmix64(seed ^ splitmix64(uint64(image)<<32^uint64(step)) ^ uint64(pixel)*0xd1b54a32d192ed03)
	h = splitmix64(h)
	return float32(h>>40) / (1 << 24)
}

// PoissonFrame writes the input spikes of one image at step t into dst:
// dst[i] = 1 if PoissonUniform(...) < x[i], else 0. It returns the number of
// spikes.
func PoissonFrame(dst, x []float32, seed uint64, image, step int) int {
	n := 0
	for i, v := range x {
		if PoissonUniform(seed, image, step, i) < v {
			dst[i] = 1
			n++
		} else {
			dst[i] = 0
		}
	}
	return n
}

// RasterEvent is one spike of a recorded raster: spiking layer k (index
// into SimResult.Layers), neuron, and step t (1-based).
type RasterEvent struct {
	Layer  int32
	Neuron int32
	Step   int32
}

// SortRaster orders events by step, layer and neuron: the order of
// ImageRecord.Raster.
func SortRaster(ev []RasterEvent) {
	slices.SortFunc(ev, func(a, b RasterEvent) int {
		if a.Step != b.Step {
			return int(a.Step - b.Step)
		}
		if a.Layer != b.Layer {
			return int(a.Layer - b.Layer)
		}
		return int(a.Neuron - b.Neuron)
	})
}
