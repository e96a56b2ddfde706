package profile_test

import (
	"reflect"
	"testing"

	"github.com/evsnn/evsnn/analysis/profile"
	"github.com/evsnn/evsnn/analysis/profile/profiletest"
	"github.com/evsnn/evsnn/dense"
	"github.com/evsnn/evsnn/network"
)

// TestDenseEngineProfile profiles a run of the dense engine: Build accepts
// its counts (spike totals and Σ count·fan-out = SOPs agree), and the
// spikes match the reference simulation's.
func TestDenseEngineProfile(t *testing.T) {
	x, labels := profiletest.Images(4, 12)
	net := profiletest.ConvNet(9, x)
	const T = 12
	var eng network.Engine = dense.Engine{}
	res, err := eng.Run(net, x, labels, network.SimOptions{T: T, KeepCounts: true, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	ann, err := net.Forward(x, 12)
	if err != nil {
		t.Fatal(err)
	}
	p, err := profile.Build(net, res, ann, profile.DefaultEnergy())
	if err != nil {
		t.Fatal(err)
	}
	ref, _, err := profiletest.Simulate(net, x, labels, T)
	if err != nil {
		t.Fatal(err)
	}
	for k, l := range p.Layers {
		r := ref.Layers[k]
		if l.Spikes != r.Spikes || l.SOPs != r.SOPs || !reflect.DeepEqual(l.SpikesByStep, r.SpikesByStep) {
			t.Errorf("%s: dense %d spikes %d SOPs %v, reference %d %d %v", l.Name, l.Spikes, l.SOPs, l.SpikesByStep, r.Spikes, r.SOPs, r.SpikesByStep)
		}
		if d := res.Layers[k]; d.FirstSpikeSum != r.FirstSpikeSum || d.FirstSpikers != r.FirstSpikers {
			t.Errorf("%s: first spikes: dense %d/%d, reference %d/%d", l.Name, d.FirstSpikeSum, d.FirstSpikers, r.FirstSpikeSum, r.FirstSpikers)
		}
		if l.MSE == nil || l.Pearson == nil {
			t.Errorf("%s: no conversion error", l.Name)
		}
	}
	if !reflect.DeepEqual(res.CorrectByStep, ref.CorrectByStep) {
		t.Errorf("correct by step: dense %v, reference %v", res.CorrectByStep, ref.CorrectByStep)
	}
}
