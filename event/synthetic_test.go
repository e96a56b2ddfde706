package event

import (
	"math"
	"slices"
	"testing"

	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/internal/testenv"
	"github.com/evsnn/evsnn/network"
)

// TestSyntheticActivity checks that the synthetic network fires about the
// activity it was built for, and that both engines agree on it.
func TestSyntheticActivity(t *testing.T) {
	for _, a := range []float64{0.01, 0.1, 0.5} {
		cfg := SyntheticConfig{Inputs: 256, Neurons: 1024, Activity: a, Seed: 1}
		if testenv.RaceEnabled {
			cfg.Neurons = 512
		}
		net, err := SyntheticNetwork(cfg)
		if err != nil {
			t.Fatal(err)
		}
		x, _ := SyntheticImages(cfg, 2)
		opts := network.SimOptions{T: 32, Workers: 1}
		res, err := Engine{}.Run(net, x, nil, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range res.Layers {
			rate := float64(l.Spikes) / float64(2*32*l.Neurons)
			t.Logf("activity %v: %s fires %.4f of its neurons per step", a, l.Name, rate)
			if rate < a/2 || rate > 2*a {
				t.Errorf("activity %v: %s fires %.4f per step", a, l.Name, rate)
			}
		}
	}
}

// TestSyntheticSparseForms: on a sparse synthetic network with layers
// large enough for the two-level active set (2¹⁷ neurons, 0.05 % of them
// firing per step), the engine picks the two-level form by itself, and
// the result — every spike count, SOP, output and per-neuron count — is
// the same with the form forced flat or two-level.
func TestSyntheticSparseForms(t *testing.T) {
	cfg := SyntheticConfig{Inputs: 512, Neurons: 1 << 17, Layers: 2, Activity: 5e-4, Seed: 3, Fanout: 8}
	if testenv.RaceEnabled {
		cfg.Neurons = twoLevelMin
	}
	net, err := SyntheticNetwork(cfg)
	if err != nil {
		t.Fatal(err)
	}
	x, _ := SyntheticImages(cfg, 3)
	opts := network.SimOptions{T: 24, Workers: 1, KeepCounts: true, KeepOutputs: true}
	var results []*network.SimResult
	for _, form := range []int{formAdaptive, formFlat, formTwoLevel} {
		res, _, err := runWork(net, x, nil, opts, tuning{form: form})
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, res)
	}
	for i, name := range []string{"flat", "two-level"} {
		if d := snnref.Diff(results[0], results[i+1]); d != "" {
			t.Errorf("forced %s differs from the adaptive choice: %s", name, d)
		}
	}
	sim, err := NewSimulator(net, opts)
	if err != nil {
		t.Fatal(err)
	}
	res := sim.NewImageResult()
	if err := sim.RunImage(x[:cfg.Inputs], 0, res); err != nil {
		t.Fatal(err)
	}
	if st := &sim.layers[1]; !st.touched.Sparse() {
		t.Errorf("layer if2 (%d neurons, %d touched at the last step) kept the flat form", cfg.Neurons, st.lastTouched)
	}
	for k, l := range results[0].Layers {
		rate := float64(l.Spikes) / float64(3*opts.T*l.Neurons)
		t.Logf("%s: %.2g of its neurons fire per step", l.Name, rate)
		if rate < cfg.Activity/2 || rate > 2*cfg.Activity {
			t.Errorf("layer %d fires %.2g per step, built for %.2g", k, rate, cfg.Activity)
		}
	}
}

// dyadic rounds every weight, bias and initial potential of a sparse
// synthetic network to a multiple of 2⁻¹⁰ (and the images to multiples of
// 2⁻⁴), so that every sum the engines make is exact in float32 in any
// order and the event engine must match the reference bit for bit.
func dyadic(net *network.Network, x []float32) {
	round := func(s []float32, q float32) {
		for i, v := range s {
			s[i] = float32(math.Round(float64(v*q))) / q
		}
	}
	for _, l := range net.Layers {
		switch l := l.(type) {
		case *network.SparseLinear:
			round(l.Weights, 1024)
			round(l.Bias, 1024)
		case *network.Spiking:
			round(l.V0, 1024)
		}
	}
	round(x, 16)
}

// TestLargeLayersExact: on a dyadic sparse synthetic network with layers
// of 2¹⁷ neurons (large enough for the two-level active set, which the
// engine picks by itself here) the event engine matches the reference
// spike for spike — spikes per step, SOPs, counts, outputs, the first
// image's raster, steps per image — whatever the active-set form (chosen,
// forced flat, forced two-level, switched every other step) and update
// policy, with and without an exit rule.
func TestLargeLayersExact(t *testing.T) {
	cfg := SyntheticConfig{Inputs: 512, Neurons: 1 << 17, Layers: 2, Activity: 5e-4, Seed: 5, Fanout: 8}
	if testenv.RaceEnabled || testing.Short() {
		cfg.Neurons = twoLevelMin
	}
	net, err := SyntheticNetwork(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const count = 3
	x, _ := SyntheticImages(cfg, count)
	dyadic(net, x)
	base := network.SimOptions{T: 24, Workers: 1, KeepCounts: true, KeepOutputs: true, Raster: true}
	full, err := snnref.Run(net, x, nil, base)
	if err != nil {
		t.Fatal(err)
	}
	// A margin rule that stops images early: the median per-step margin
	// of the full run, from step 4 on.
	var margins []float64
	for i := range count {
		out := slices.Clone(full.Outputs[i*10 : (i+1)*10])
		slices.Sort(out)
		margins = append(margins, float64(out[9]-out[8])/float64(base.T))
	}
	slices.Sort(margins)
	stopped := 0
	for _, rule := range []network.Exit{nil, network.MarginExit{M: margins[count/2], MinSteps: 4}} {
		opts := base
		opts.Exit = rule
		ref, err := snnref.Run(net, x, nil, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range ref.Steps {
			if s < opts.T {
				stopped++
			}
		}
		for _, tune := range []struct {
			name string
			tuning
		}{
			{"adaptive", tuning{}}, {"flat", tuning{form: formFlat}}, {"two-level", tuning{form: formTwoLevel}},
			{"alternating", tuning{form: formAlternate}}, {"sparse/alternating", tuning{policy: policySparse, form: formAlternate}},
			{"dense", tuning{policy: policyDense}},
		} {
			ev, _, err := runWork(net, x, nil, opts, tune.tuning)
			if err != nil {
				t.Fatal(err)
			}
			if d := snnref.Diff(ref, ev); d != "" {
				t.Errorf("exit %v, %s: event differs from snnref: %s", rule, tune.name, d)
			}
			if !slices.Equal(ref.Steps, ev.Steps) {
				t.Errorf("exit %v, %s: steps per image %v, snnref %v", rule, tune.name, ev.Steps, ref.Steps)
			}
		}
	}
	var spikes int64
	for _, l := range full.Layers {
		spikes += l.Spikes
	}
	t.Logf("%d spikes in all, %d of %d images stopped early with the margin rule", spikes, stopped, count)
	if spikes == 0 || stopped == 0 {
		t.Errorf("%d spikes, %d images stopped early: the test exercises too little", spikes, stopped)
	}
}
