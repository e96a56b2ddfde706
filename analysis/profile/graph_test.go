package profile_test

import (
	"testing"

	"github.com/evsnn/evsnn/analysis/profile"
	"github.com/evsnn/evsnn/internal/fixture"
	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/network"
)

// resNet is a residual block behind a MaxPool:
//
//	[1,4,4] → conv1 (1→2, 3×3, pad 1) → sp1 → maxpool (2×2/2) → [2,2,2]
//	          ├→ conv2 (2→2, 3×3, pad 1) ─┐
//	          └──────── identity ─────────┴→ add1 → sp2 → flatten → fc (8→3)
func resNet() *network.Network {
	fill := func(n int, v float32) []float32 {
		w := make([]float32, n)
		for i := range w {
			w[i] = v
		}
		return w
	}
	return &network.Network{
		Input: network.Shape{1, 4, 4},
		Layers: []network.Layer{
			&network.Conv2d{LayerName: "conv1", InC: 1, OutC: 2, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, Weight: fill(18, 0.25), Bias: []float32{0, 0.125}},
			&network.Spiking{LayerName: "sp1", Threshold: []float32{1}, Alpha: 1, Reset: network.ResetSoft},
			&network.MaxPool2d{LayerName: "maxpool", KH: 2, KW: 2, StrideH: 2, StrideW: 2},
			&network.Conv2d{LayerName: "conv2", InC: 2, OutC: 2, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, Weight: fill(36, 0.125), Bias: []float32{0, 0}},
			&network.Add{LayerName: "add1"},
			&network.Spiking{LayerName: "sp2", Threshold: []float32{2}, Alpha: 1, Reset: network.ResetSoft},
			&network.Flatten{LayerName: "flatten"},
			&network.Linear{LayerName: "fc", In: 8, Out: 3, Weight: fill(24, 0.5), Bias: []float32{0, 0, 0}},
		},
		Inputs: [][]int{{network.InputNode}, {0}, {1}, {2}, {3, 2}, {4}, {5}, {6}},
	}
}

// The cost of a graph, worked out by hand. sp1's spikes reach the rest only
// through the MaxPool, whose events are charged to sp1: its projections are
// conv2 (2·2·2 outputs × 2·3·3 taps = 144 MACs) and the identity shortcut
// into add1 (8 additions). sp2 feeds fc: 24 MACs. The input feeds conv1:
// 2·4·4 outputs × 9 taps = 288 MACs. Each MaxPool event reaches 2·2·2 = 8
// targets of conv2 (every output of a 2×2 map under a padded 3×3 kernel)
// plus 1 of the identity path: sp1's SOPs are 9 per pool event.
func TestBuildGraphCosts(t *testing.T) {
	net := resNet()
	if err := net.Validate(); err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 3*16)
	for i := range x {
		x[i] = float32(i%7) / 8
	}
	res, err := snnref.Run(net, x, nil, network.SimOptions{T: 6, KeepCounts: true})
	if err != nil {
		t.Fatal(err)
	}
	p, err := profile.Build(net, res, nil, profile.DefaultEnergy())
	if err != nil {
		t.Fatal(err)
	}
	sp1, sp2 := p.Layers[0], p.Layers[1]
	if sp1.Target != "conv2, add1" || sp1.ANNMACs != 152 || sp1.DenseMACs != 6*152 {
		t.Errorf("sp1: target %q, %d MACs (dense %d), want \"conv2, add1\", 152", sp1.Target, sp1.ANNMACs, sp1.DenseMACs)
	}
	if sp1.Spikes == 0 || sp1.SOPs == 0 || sp1.SOPs%9 != 0 {
		t.Errorf("sp1: %d spikes, %d SOPs: want pool events × 9", sp1.Spikes, sp1.SOPs)
	}
	if sp2.Target != "fc" || sp2.ANNMACs != 24 || sp2.SOPs != 3*sp2.Spikes {
		t.Errorf("sp2: target %q, %d MACs, %d SOPs for %d spikes", sp2.Target, sp2.ANNMACs, sp2.SOPs, sp2.Spikes)
	}
	if tot := p.Totals; tot.InputMACs != 288 || tot.ANNMACs != 288+152+24 {
		t.Errorf("totals: input %d MACs, all %d; want 288, 464", tot.InputMACs, tot.ANNMACs)
	}
	// SOPs below what the counts alone give are refused even behind a
	// MaxPool.
	res.Layers[1].SOPs--
	if _, err := profile.Build(net, res, nil, profile.DefaultEnergy()); err == nil {
		t.Error("sp2 with one SOP missing accepted")
	}
}

// On random chains and graphs the layers' MACs and the input's add up to
// the total, every layer has a target, and SOPs are those of the run.
func TestBuildRandomGraphs(t *testing.T) {
	for _, kind := range snnref.Kinds {
		t.Run(kind.String(), func(t *testing.T) {
			run := fixture.RandomRun(t, kind, 21, 6, 10)
			p, err := profile.Build(run.Net, run.Result, run.ANN, profile.DefaultEnergy())
			if err != nil {
				t.Fatal(err)
			}
			sum := p.Totals.InputMACs
			for k, l := range p.Layers {
				if l.Target == "" || l.ANNMACs <= 0 || l.SOPs != run.Result.Layers[k].SOPs || l.MSE == nil {
					t.Errorf("layer %s: target %q, %d MACs, %d SOPs, MSE %v", l.Name, l.Target, l.ANNMACs, l.SOPs, l.MSE)
				}
				sum += l.ANNMACs
			}
			if p.Totals.InputMACs <= 0 || sum != p.Totals.ANNMACs {
				t.Errorf("input %d + layers = %d MACs, total %d", p.Totals.InputMACs, sum, p.Totals.ANNMACs)
			}
		})
	}
}
