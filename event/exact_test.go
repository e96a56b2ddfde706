package event

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/evsnn/evsnn/internal/testenv"

	"github.com/evsnn/evsnn/dense"
	"github.com/evsnn/evsnn/network"
)

func randomImages(r *rand.Rand, net *network.Network, count int) []float32 {
	n := net.Input.Size()
	x := make([]float32, count*n)
	for i := range x {
		if r.IntN(3) > 0 {
			x[i] = dyadic(r, 0, 16)
		}
	}
	return x
}

type exactCase struct {
	kind     int
	alpha    float32
	reset    network.Reset
	encoding network.Encoding
	delays   bool
}

func (c exactCase) String() string {
	k := "conv"
	if c.kind == 1 {
		k = "linear"
	}
	return fmt.Sprintf("%s/alpha=%v/%s/%s/delays=%v", k, c.alpha, c.reset, c.encoding, c.delays)
}

func exactCases() []exactCase {
	var cs []exactCase
	for _, kind := range []int{0, 1} {
		for _, alpha := range []float32{1, 0.5} {
			for _, reset := range []network.Reset{network.ResetSoft, network.ResetHard} {
				for _, enc := range []network.Encoding{network.EncodingDirect, network.EncodingPoisson} {
					for _, delays := range []bool{false, true} {
						cs = append(cs, exactCase{kind, alpha, reset, enc, delays})
					}
				}
			}
		}
	}
	return cs
}

// TestExactAgreement runs random small networks with dyadic parameters,
// where every float32 sum is exact in any order, and requires the event
// engine to match the naive per-step reference spike for spike (every
// layer, every step) and the readout bit for bit.
func TestExactAgreement(t *testing.T) {
	nets := 3
	if testing.Short() || testenv.RaceEnabled {
		nets = 1
	}
	for ci, c := range exactCases() {
		t.Run(c.String(), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(ci), 7))
			for ni := 0; ni < nets; ni++ {
				net := randomNet(r, c.kind, c.alpha, c.reset)
				opts := network.SimOptions{T: 12 + r.IntN(8), Encoding: c.encoding, Seed: r.Uint64(), KeepCounts: true, KeepOutputs: true, ImageOffset: r.IntN(100)}
				if c.delays {
					opts.Delays = randomDelays(r, net)
				}
				const count = 4
				images := randomImages(r, net, count)
				checkExact(t, net, images, opts)
			}
		})
	}
}

func checkExact(t *testing.T, net *network.Network, images []float32, opts network.SimOptions) {
	t.Helper()
	for _, policy := range []int{policyAdaptive, policySparse, policyDense} {
		checkExactPolicy(t, net, images, opts, policy)
	}
	// Engine.Run with 1 and 3 workers: identical results.
	size := net.Input.Size()
	count := len(images) / size
	labels := make([]int, count)
	r1 := opts
	r1.Workers = 1
	r1.Raster = true
	a, err := Engine{}.Run(net, images, labels, r1)
	if err != nil {
		t.Fatal(err)
	}
	r1.Workers = 3
	b, err := Engine{}.Run(net, images, labels, r1)
	if err != nil {
		t.Fatal(err)
	}
	a.Wall, b.Wall = 0, 0
	if !simResultsEqual(a, b) {
		t.Fatalf("results differ between 1 and 3 workers")
	}
	// The raster of the first image is the reference's spikes.
	ref := refRun(net, images[:size], opts.ImageOffset, opts)
	var want []network.RasterEvent
	for st := 0; st < opts.T; st++ {
		for k := range ref.raster {
			for _, j := range ref.raster[k][st] {
				want = append(want, network.RasterEvent{Layer: int32(k), Neuron: int32(j), Step: int32(st + 1)})
			}
		}
	}
	if !slices.Equal(a.Raster, want) {
		t.Fatalf("raster of the first image: %d events, reference %d", len(a.Raster), len(want))
	}
	// The dense engine must agree exactly too.
	r1.Workers = 1
	d, err := dense.Engine{}.Run(net, images, labels, r1)
	if err != nil {
		t.Fatalf("dense engine: %v", err)
	}
	d.Wall = 0
	d.Engine = "event"
	if d.Raster == nil {
		// The dense engine does not record rasters yet (SimOptions.Raster
		// is newer than it): compare everything else.
		d.Raster = a.Raster
	}
	if !simResultsEqual(a, d) {
		t.Errorf("event and dense engines differ (delays %v, encoding %s):\nevent %+v\ndense %+v", opts.Delays, opts.Encoding, a.Layers, d.Layers)
	}
}

func checkExactPolicy(t *testing.T, net *network.Network, images []float32, opts network.SimOptions, policy int) {
	t.Helper()
	sim, err := NewSimulator(net, opts)
	if err != nil {
		t.Fatal(err)
	}
	sim.policy = policy
	size := net.Input.Size()
	count := len(images) / size
	var raster [][][]int
	sim.spikeHook = func(k int, st int32, sp []int32) {
		g := sim.p.layers[k].g
		var us []int
		for _, q := range sp {
			us = append(us, g.user(int(q)))
		}
		slices.Sort(us)
		raster[k][st-1] = us
	}
	res := sim.NewImageResult()
	totalSpikes := 0
	for i := 0; i < count; i++ {
		x := images[i*size : (i+1)*size]
		img := opts.ImageOffset + i
		ref := refRun(net, x, img, opts)
		raster = make([][][]int, sim.NumLayers())
		for k := range raster {
			raster[k] = make([][]int, opts.T)
		}
		if err := sim.RunImage(x, img, res); err != nil {
			t.Fatal(err)
		}
		for k := range raster {
			for st := 0; st < opts.T; st++ {
				if !slices.Equal(raster[k][st], ref.raster[k][st]) {
					t.Fatalf("policy %d image %d layer %d step %d: event spikes %v, reference %v (delays %v)", policy, i, k, st+1, raster[k][st], ref.raster[k][st], opts.Delays)
				}
				totalSpikes += len(ref.raster[k][st])
			}
		}
		for o := range ref.output {
			if math.Float32bits(ref.output[o]) != math.Float32bits(res.Output[o]) {
				t.Fatalf("image %d output %d: event %v, reference %v", i, o, res.Output[o], ref.output[o])
			}
		}
		if !slices.Equal(ref.predByStep, res.PredictionByStep) {
			t.Fatalf("image %d predictions by step: event %v, reference %v", i, res.PredictionByStep, ref.predByStep)
		}
	}
	if totalSpikes == 0 {
		t.Errorf("no spikes at all: the case tests nothing")
	}
	t.Logf("policy %d T=%d spikes=%d work: updates %v replays %v checks %v adds %v", policy, opts.T, totalSpikes, res.Work.Updates, res.Work.Replays, res.Work.Checks, res.Work.Adds)
}

func simResultsEqual(a, b *network.SimResult) bool {
	if a.Engine != b.Engine || a.T != b.T || a.Images != b.Images || a.Encoding != b.Encoding ||
		a.InputSpikes != b.InputSpikes || a.InputSOPs != b.InputSOPs || !slices.Equal(a.CorrectByStep, b.CorrectByStep) ||
		!slices.Equal(a.Predictions, b.Predictions) || len(a.Layers) != len(b.Layers) {
		return false
	}
	for i := range a.ImageSpikes {
		if !slices.Equal(a.ImageSpikes[i], b.ImageSpikes[i]) {
			return false
		}
	}
	if !slices.EqualFunc(a.Outputs, b.Outputs, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) }) {
		return false
	}
	for k := range a.Counts {
		if !slices.Equal(a.Counts[k], b.Counts[k]) {
			return false
		}
	}
	if !slices.Equal(a.Raster, b.Raster) {
		return false
	}
	for k := range a.Layers {
		x, y := a.Layers[k], b.Layers[k]
		if x.Name != y.Name || x.Layer != y.Layer || x.Neurons != y.Neurons || x.Spikes != y.Spikes || x.SOPs != y.SOPs ||
			x.FirstSpikeSum != y.FirstSpikeSum || x.FirstSpikers != y.FirstSpikers || !slices.Equal(x.SpikesByStep, y.SpikesByStep) {
			return false
		}
	}
	return true
}

// TestExactLongRun covers runs longer than the engine's 64-step buckets of
// the constant-current layer and its crossing queue.
func TestExactLongRun(t *testing.T) {
	r := rand.New(rand.NewPCG(99, 1))
	for _, kind := range []int{0, 1} {
		net := randomNet(r, kind, 1, network.ResetSoft)
		opts := network.SimOptions{T: 150, KeepCounts: true, KeepOutputs: true}
		checkExact(t, net, randomImages(r, net, 2), opts)
	}
}
