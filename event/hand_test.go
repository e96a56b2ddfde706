package event

import (
	"slices"
	"testing"

	"github.com/evsnn/evsnn/network"
)

// chain builds input [1] → Linear(1→1, w1, b1) → Spiking → Linear(1→2)
// readout with weights [1, 0] and biases [0, rb].
func chain(w1, b1 float32, sp *network.Spiking, rb float32) *network.Network {
	sp.LayerName = "sp"
	return &network.Network{
		Input: network.Shape{1},
		Layers: []network.Layer{
			&network.Linear{LayerName: "fc", In: 1, Out: 1, Weight: []float32{w1}, Bias: []float32{b1}},
			sp,
			&network.Linear{LayerName: "out", In: 1, Out: 2, Weight: []float32{1, 0}, Bias: []float32{0, rb}},
		},
	}
}

// TestHandComputed checks small cases worked out by hand: the steps at
// which the single spiking neuron fires and the readout after T steps.
func TestHandComputed(t *testing.T) {
	soft := func(th, alpha float32) *network.Spiking {
		return &network.Spiking{Threshold: []float32{th}, Alpha: alpha, Reset: network.ResetSoft}
	}
	hard := func(th, alpha float32) *network.Spiking {
		return &network.Spiking{Threshold: []float32{th}, Alpha: alpha, Reset: network.ResetHard}
	}
	cases := []struct {
		name   string
		net    *network.Network
		x      float32
		opts   network.SimOptions
		spikes []int32   // steps at which the neuron fires
		out    []float32 // readout after T steps
		pred   []int     // prediction after each step
	}{
		{
			// v: .375 .75 1.125→.125 .5 .875 1.25→.25
			name: "IF soft, input current 3/8", net: chain(1, 0, soft(1, 1), 0.25), x: 0.375,
			opts:   network.SimOptions{T: 6},
			spikes: []int32{3, 6}, out: []float32{2, 1.5},
			// A1 = .25t; A0 = 1 after step 3, 2 after 6
			pred: []int{1, 1, 0, 0, 1, 0},
		},
		{
			// bias only (x·0): v: .5 1→0 .5 1→0
			name: "IF soft, bias drives the neuron", net: chain(0, 0.5, soft(1, 1), 0), x: 0.9,
			opts:   network.SimOptions{T: 4},
			spikes: []int32{2, 4}, out: []float32{2, 0},
			pred: []int{0, 0, 0, 0},
		},
		{
			// v: .75, .375+.75=1.125→0, .75, 1.125→0, .75
			name: "LIF α=1/2 hard, constant current 3/4", net: chain(1, 0, hard(1, 0.5), 0), x: 0.75,
			opts:   network.SimOptions{T: 5},
			spikes: []int32{2, 4}, out: []float32{2, 0},
			pred: []int{0, 0, 0, 0, 0},
		},
		{
			// v: 2.5→1.5, 4→3, 5.5→4.5: one spike per step at most
			name: "IF soft, current above threshold", net: chain(1, 0, soft(1, 1), 0), x: 2.5,
			opts:   network.SimOptions{T: 3},
			spikes: []int32{1, 2, 3}, out: []float32{3, 0},
			pred: []int{0, 0, 0},
		},
		{
			// v: 2.5→0 each step
			name: "IF hard, current above threshold", net: chain(1, 0, hard(1, 1), 0), x: 2.5,
			opts:   network.SimOptions{T: 3},
			spikes: []int32{1, 2, 3}, out: []float32{3, 0},
			pred: []int{0, 0, 0},
		},
		{
			// v(0) = θ/2 = 1: v: 1.5, 2→0 (soft, θ 2), .5, 1, 1.5, 2→0
			name: "IF soft, v0 = θ/2", net: chain(1, 0, &network.Spiking{Threshold: []float32{2}, Alpha: 1, Reset: network.ResetSoft, V0Fraction: 0.5}, 0), x: 0.5,
			opts:   network.SimOptions{T: 6},
			spikes: []int32{2, 6}, out: []float32{4, 0},
			pred: []int{0, 0, 0, 0, 0, 0},
		},
		{
			// Input delayed by 2: steps 1,2 see only the bias 0; then as case 1.
			name: "IF soft, input delay 2", net: chain(1, 0, soft(1, 1), 0.25), x: 0.375,
			opts:   network.SimOptions{T: 8, Delays: []int{2, 0, 0}},
			spikes: []int32{5, 8}, out: []float32{2, 2},
			// A1 = .25t: .25 .5 .75 1 1.25 1.5 1.75 2; A0: 1 from step 5, 2 at 8 (tie → 0)
			pred: []int{1, 1, 1, 1, 1, 1, 1, 0},
		},
		{
			// Readout delayed by 1: the spikes of steps 3 and 6 count at 4 and 7.
			name: "IF soft, readout delay 1", net: chain(1, 0, soft(1, 1), 0.25), x: 0.375,
			opts:   network.SimOptions{T: 7, Delays: []int{0, 0, 1}},
			spikes: []int32{3, 6}, out: []float32{2, 1.75},
			pred: []int{1, 1, 1, 0, 1, 1, 0},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, policy := range []tuning{{}, {policy: policySparse}, {policy: policyDense}, {policy: policySparse, form: formTwoLevel}} {
				sim, err := NewSimulator(c.net, c.opts)
				if err != nil {
					t.Fatal(err)
				}
				sim.tuning = policy
				var got []int32
				sim.spikeHook = func(k int, st int32, sp []int32) {
					if len(sp) > 0 {
						got = append(got, st)
					}
				}
				res := sim.NewImageResult()
				if err := sim.RunImage([]float32{c.x}, 0, res); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, c.spikes) {
					t.Errorf("policy %v: spikes at %v, want %v", policy, got, c.spikes)
				}
				if !slices.Equal(res.Output, c.out) {
					t.Errorf("policy %v: readout %v, want %v", policy, res.Output, c.out)
				}
				if !slices.Equal(res.PredictionByStep, c.pred) {
					t.Errorf("policy %v: predictions %v, want %v", policy, res.PredictionByStep, c.pred)
				}
				if res.Spikes[0] != int64(len(c.spikes)) || res.SOPs[0] != int64(2*len(c.spikes)) {
					t.Errorf("policy %v: %d spikes %d SOPs", policy, res.Spikes[0], res.SOPs[0])
				}
				if len(c.spikes) > 0 && (res.FirstSpikeSum[0] != int64(c.spikes[0]) || res.FirstSpikers[0] != 1) {
					t.Errorf("policy %v: first spike sum %d of %d", policy, res.FirstSpikeSum[0], res.FirstSpikers[0])
				}
			}
		})
	}
}

// TestCompileErrors checks that networks the engine cannot simulate are
// refused with a message naming the layer.
func TestCompileErrors(t *testing.T) {
	lin := func(in, out int) *network.Linear {
		return &network.Linear{LayerName: "fc", In: in, Out: out, Weight: make([]float32, in*out), Bias: make([]float32, out)}
	}
	sp := &network.Spiking{LayerName: "s", Threshold: []float32{1}, Alpha: 1, Reset: network.ResetSoft}
	out := func() *network.Linear { l := lin(2, 2); l.LayerName = "o"; return l }
	good := &network.Network{Input: network.Shape{2}, Layers: []network.Layer{lin(2, 2), sp, out()}}
	cases := []struct {
		name   string
		net    *network.Network
		delays []int
	}{
		{"ann", &network.Network{Input: network.Shape{2}, Layers: []network.Layer{lin(2, 2), &network.ReLU{LayerName: "r"}, out()}}, nil},
		{"no readout", &network.Network{Input: network.Shape{2}, Layers: []network.Layer{lin(2, 2), sp}}, nil},
		{"no spiking layer", &network.Network{Input: network.Shape{2}, Layers: []network.Layer{lin(2, 2)}}, nil},
		{"delay on a spiking layer", good, []int{0, 1, 0}},
		{"delays for another network", good, []int{0, 0}},
	}
	for _, c := range cases {
		if _, err := NewSimulator(c.net, network.SimOptions{T: 4, Delays: c.delays}); err == nil {
			t.Errorf("%s: no error", c.name)
		} else {
			t.Logf("%s: %v", c.name, err)
		}
	}
}

// TestRunImageForeignResult: an ImageResult made for another T (or
// network) is refused, not indexed out of range.
func TestRunImageForeignResult(t *testing.T) {
	net := chain(1, 0, &network.Spiking{Threshold: []float32{1}, Alpha: 1, Reset: network.ResetSoft}, 0)
	a, err := NewSimulator(net, network.SimOptions{T: 8})
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewSimulator(net, network.SimOptions{T: 16})
	if err != nil {
		t.Fatal(err)
	}
	if a.T() != 8 || b.T() != 16 || a.Classes() != 2 {
		t.Fatalf("T %d, %d, classes %d", a.T(), b.T(), a.Classes())
	}
	if err := b.RunImage([]float32{0.5}, 0, a.NewImageResult()); err == nil {
		t.Error("an ImageResult for T = 8 was taken by a Simulator for T = 16")
	} else {
		t.Log(err)
	}
	if err := a.RunImage([]float32{0.5}, 0, a.NewImageResult()); err != nil {
		t.Error(err)
	}
}
