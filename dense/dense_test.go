package dense_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/dense"
	"github.com/evsnn/evsnn/internal/fixture"
	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/network"
)

// tinySNN is input [1] → Linear(1→1, w=1) → spiking → Linear(1→1, w=1):
// the readout accumulates θ per spike.
func tinySNN(alpha float32, reset network.Reset, v0 float32) *network.Network {
	return &network.Network{
		Input: network.Shape{1},
		Layers: []network.Layer{
			&network.Linear{LayerName: "fc1", In: 1, Out: 1, Weight: []float32{1}, Bias: []float32{0}},
			&network.Spiking{LayerName: "spk", Threshold: []float32{1}, Alpha: alpha, Reset: reset, V0Fraction: v0},
			&network.Linear{LayerName: "out", In: 1, Out: 1, Weight: []float32{1}, Bias: []float32{0}},
		},
	}
}

// steps lists the steps (1-based) at which the single neuron fired.
func steps(r *network.SimResult) []int {
	var s []int
	for t, n := range r.Layers[0].SpikesByStep {
		if n > 0 {
			s = append(s, t+1)
		}
	}
	return s
}

// TestNeuronModels checks IF, LIF, soft and hard reset and v(0) on a
// single neuron driven by a constant current, against spike trains
// computed by hand (all values are dyadic, so float32 is exact).
func TestNeuronModels(t *testing.T) {
	for _, c := range []struct {
		name  string
		alpha float32
		reset network.Reset
		v0    float32
		x     float32
		want  []int
	}{
		// v: .75, 1.5→.5, 1.25→.25, 1→0, .75, 1.5→.5, 1.25→.25, 1→0
		{"IF soft", 1, network.ResetSoft, 0, 0.75, []int{2, 3, 4, 6, 7, 8}},
		// v: .75, 1.5→0, .75, 1.5→0, ...
		{"IF hard", 1, network.ResetHard, 0, 0.75, []int{2, 4, 6, 8}},
		// v: 1.25→.25, 1→0, .75, 1.5→.5, 1.25→.25, 1→0, .75, 1.5→.5
		{"IF soft v0=.5θ", 1, network.ResetSoft, 0.5, 0.75, []int{1, 2, 4, 5, 6, 8}},
		// v: .625, .9375, 1.09375→.09375, .671875, .9609375,
		// 1.10546875→.10546875, .677734375, .9638671875
		{"LIF .5 soft", 0.5, network.ResetSoft, 0, 0.625, []int{3, 6}},
		// v: .5, .75, .875, .9375, .96875, ... never reaches 1
		{"LIF .5 below", 0.5, network.ResetSoft, 0, 0.5, nil},
		// v: .75, 1.125→.125, .8125, 1.15625→.15625, .828125, 1.1640625→.1640625, ...
		{"LIF .5 soft fast", 0.5, network.ResetSoft, 0, 0.75, []int{2, 4, 6, 8}},
		// v: .875, 1.3125→0, .875, 1.3125→0: hard reset forgets the excess
		{"LIF .5 hard", 0.5, network.ResetHard, 0, 0.875, []int{2, 4, 6, 8}},
		// soft keeps it: .875, 1.3125→.3125, 1.03125→.03125, .890625, 1.3203125→.3203125, 1.03515625→.03515625, .892578125, 1.3212890625
		{"LIF .5 soft keeps excess", 0.5, network.ResetSoft, 0, 0.875, []int{2, 3, 5, 6, 8}},
		// v = θ exactly fires (v ≥ θ)
		{"IF tie fires", 1, network.ResetSoft, 0, 0.5, []int{2, 4, 6, 8}},
	} {
		t.Run(c.name, func(t *testing.T) {
			net := tinySNN(c.alpha, c.reset, c.v0)
			r, err := dense.Engine{}.Run(net, []float32{c.x}, []int{0}, network.SimOptions{T: 8, KeepOutputs: true, KeepCounts: true})
			if err != nil {
				t.Fatal(err)
			}
			if got := steps(r); !reflect.DeepEqual(got, c.want) {
				t.Errorf("spikes at steps %v, want %v", got, c.want)
			}
			n := int64(len(c.want))
			if r.Layers[0].Spikes != n || r.ImageSpikes[0][0] != n || r.Counts[0][0] != int32(n) {
				t.Errorf("spike totals %d / %d / %d, want %d", r.Layers[0].Spikes, r.ImageSpikes[0][0], r.Counts[0][0], n)
			}
			if r.Outputs[0] != float32(n) {
				t.Errorf("readout %v, want %d (θ = 1 per spike)", r.Outputs[0], n)
			}
			if r.Layers[0].SOPs != n {
				t.Errorf("SOPs %d, want %d (fan-out 1)", r.Layers[0].SOPs, n)
			}
			if n > 0 && (r.Layers[0].FirstSpikers != 1 || r.Layers[0].FirstSpikeSum != int64(c.want[0])) {
				t.Errorf("first spike %d/%d, want %d/1", r.Layers[0].FirstSpikeSum, r.Layers[0].FirstSpikers, c.want[0])
			}
		})
	}
}

// TestDelays checks that a spike emitted at step t reaches a layer with
// delay d at step t+d, the bias still arriving every step.
func TestDelays(t *testing.T) {
	net := tinySNN(1, network.ResetSoft, 0)
	net.Layers[2].(*network.Linear).Bias[0] = 0.0625
	run := func(delays []int) *network.SimResult {
		r, err := dense.Engine{}.Run(net, []float32{0.75}, nil, network.SimOptions{T: 8, KeepOutputs: true, Delays: delays})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	// Input delayed by 2: the neuron sees 0 at steps 1, 2, then 0.75.
	if got, want := steps(run([]int{2, 0, 0})), []int{4, 5, 6, 8}; !reflect.DeepEqual(got, want) {
		t.Errorf("input delay 2: spikes at %v, want %v", got, want)
	}
	// Readout delayed by 3: of the spikes at 2,3,4,6,7,8 those of steps
	// ≤ 5 arrive by step 8: 3 spikes, plus 8 biases.
	r := run([]int{0, 0, 3})
	if got, want := r.Outputs[0], float32(3+8*0.0625); got != want {
		t.Errorf("readout delay 3: output %v, want %v", got, want)
	}
	if got, want := steps(r), []int{2, 3, 4, 6, 7, 8}; !reflect.DeepEqual(got, want) {
		t.Errorf("readout delay 3: spikes at %v, want %v", got, want)
	}
}

// TestPoissonReproducible checks that Poisson input depends only on the
// seed and each image's dataset index.
func TestPoissonReproducible(t *testing.T) {
	snn := fixtureSNN(t)
	x, y := fixture.MNIST(t, "test", 6)
	run := func(seed uint64, first, n, offset int) *network.SimResult {
		r, err := dense.Engine{BatchSize: 2}.Run(snn, x[first*784:(first+n)*784], y[first:first+n],
			network.SimOptions{T: 8, Encoding: network.EncodingPoisson, Seed: seed, ImageOffset: offset, KeepOutputs: true})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, b := run(7, 0, 6, 0), run(7, 0, 6, 0)
	if !reflect.DeepEqual(a.Outputs, b.Outputs) || !reflect.DeepEqual(a.ImageSpikes, b.ImageSpikes) {
		t.Errorf("same seed, different results")
	}
	if c := run(8, 0, 6, 0); reflect.DeepEqual(a.Outputs, c.Outputs) {
		t.Errorf("seeds 7 and 8 gave the same outputs")
	}
	// Images 3..5 simulated alone, with their dataset offset, see the
	// same input spikes as in the run over all six.
	part := run(7, 3, 3, 3)
	if !reflect.DeepEqual(part.Outputs, a.Outputs[3*10:]) || !reflect.DeepEqual(part.ImageSpikes, a.ImageSpikes[3:]) {
		t.Errorf("a slice of the data with ImageOffset differs from the full run")
	}
	if noOff := run(7, 3, 3, 0); reflect.DeepEqual(noOff.Outputs, a.Outputs[3*10:]) {
		t.Errorf("without ImageOffset the slice should see other input spikes")
	}
}

// TestWorkersAndBatches checks that results do not depend on how images
// are grouped or spread over goroutines, on the fixture network.
func TestWorkersAndBatches(t *testing.T) {
	snn := fixtureSNN(t)
	x, y := fixture.MNIST(t, "test", 12)
	var ref *network.SimResult
	for _, c := range []struct{ batch, workers int }{{0, 1}, {1, 1}, {5, 2}, {100, 3}, {4, 0}} {
		var progress []int
		r, err := dense.Engine{BatchSize: c.batch}.Run(snn, x, y, network.SimOptions{T: 6, Workers: c.workers,
			KeepCounts: true, KeepOutputs: true, Progress: func(d int) { progress = append(progress, d) }})
		if err != nil {
			t.Fatal(err)
		}
		if len(progress) == 0 || progress[len(progress)-1] != 12 {
			t.Errorf("batch %d workers %d: progress %v does not end at 12", c.batch, c.workers, progress)
		}
		if ref == nil {
			ref = r
			continue
		}
		if d := snnref.Diff(r, ref); d != "" {
			t.Errorf("batch %d workers %d: %s", c.batch, c.workers, d)
		}
	}
}

func TestErrors(t *testing.T) {
	snn := tinySNN(1, network.ResetSoft, 0)
	ann := tinySNN(1, network.ResetSoft, 0)
	ann.Layers[1] = &network.ReLU{LayerName: "relu"}
	noSpk := &network.Network{Input: network.Shape{1}, Layers: []network.Layer{snn.Layers[0]}}
	lastSpk := &network.Network{Input: network.Shape{1}, Layers: snn.Layers[:2]}
	ok := network.SimOptions{T: 4}
	for _, c := range []struct {
		name   string
		e      dense.Engine
		net    *network.Network
		x      []float32
		labels []int
		opts   network.SimOptions
		want   string
	}{
		{"nil network", dense.Engine{}, nil, []float32{1}, nil, ok, "nil network"},
		{"ANN", dense.Engine{}, ann, []float32{1}, nil, ok, "ReLU"},
		{"no spiking layer", dense.Engine{}, noSpk, []float32{1}, nil, ok, "no spiking layer"},
		{"no readout", dense.Engine{}, lastSpk, []float32{1}, nil, ok, "needs a Linear readout"},
		{"T = 0", dense.Engine{}, snn, []float32{1}, nil, network.SimOptions{}, "T = 0"},
		{"bad encoding", dense.Engine{}, snn, []float32{1}, nil, network.SimOptions{T: 1, Encoding: "rate"}, "encoding"},
		{"negative batch", dense.Engine{BatchSize: -1}, snn, []float32{1}, nil, ok, "batch size"},
		{"labels", dense.Engine{}, snn, []float32{1, 2}, []int{1}, ok, "1 labels for 2 images"},
		{"delays length", dense.Engine{}, snn, []float32{1}, nil, network.SimOptions{T: 1, Delays: []int{0}}, "1 delays for 3 layers"},
		{"delay on spiking layer", dense.Engine{}, snn, []float32{1}, nil, network.SimOptions{T: 1, Delays: []int{0, 1, 0}}, "only weighted layers"},
		{"negative delay", dense.Engine{}, snn, []float32{1}, nil, network.SimOptions{T: 1, Delays: []int{-1, 0, 0}}, "delay"},
		{"negative workers", dense.Engine{}, snn, []float32{1}, nil, network.SimOptions{T: 1, Workers: -1}, "workers"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.e.Run(c.net, c.x, c.labels, c.opts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
	// An image count that is not whole.
	conv := fixtureSNN(t)
	if _, err := (dense.Engine{}).Run(conv, make([]float32, 785), nil, ok); err == nil || !strings.Contains(err.Error(), "whole number") {
		t.Errorf("785 values: error %v", err)
	}
	// No images: an empty result, not an error.
	r, err := dense.Engine{}.Run(snn, nil, nil, ok)
	if err != nil || r.Images != 0 {
		t.Errorf("no images: %v, %v", r, err)
	}
}
