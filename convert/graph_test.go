package convert_test

import (
	"math/rand/v2"
	"testing"

	"github.com/evsnn/evsnn/convert"
	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/network"
)

// annOf turns a random SNN back into the ANN it could have come from: every
// spiking layer becomes a ReLU.
func annOf(snn *network.Network) *network.Network {
	ann := snn.Clone()
	for i, l := range ann.Layers {
		if l.Kind() == network.KindSpiking {
			ann.Layers[i] = &network.ReLU{LayerName: l.Name()}
		}
	}
	return ann
}

// TestConvertGraphs converts random residual and VGG-style ANNs: one max
// threshold per ReLU (after an Add: the ReLU of the sum), and the bias shift
// in the bias of the weighted layer or of the Add feeding each ReLU.
func TestConvertGraphs(t *testing.T) {
	for _, kind := range []snnref.Kind{snnref.ResNet, snnref.VGG} {
		for seed := range uint64(4) {
			r := rand.New(rand.NewPCG(seed, 99))
			ann := annOf(snnref.RandomNet(r, snnref.Config{Kind: kind, Alpha: 1, Reset: network.ResetSoft}))
			x := snnref.RandomImages(r, ann, 16)
			stat, _ := convert.ParseStatistic("max")
			th, err := convert.Thresholds(ann, x, 16, stat)
			if err != nil {
				t.Fatalf("%v seed %d: %v", kind, seed, err)
			}
			act, err := ann.Forward(x, 16)
			if err != nil {
				t.Fatal(err)
			}
			for k, li := range ann.SpikingLayers() {
				var m float32
				for _, v := range act.Output[li] {
					m = max(m, v)
				}
				if th[k][0] != m {
					t.Fatalf("%v seed %d: θ of ReLU %d = %v, want its maximum %v", kind, seed, li, th[k][0], m)
				}
			}
			const T = 8
			snn, err := convert.Convert(ann, th, convert.Options{BiasShift: true, T: T})
			if err != nil {
				t.Fatalf("%v seed %d: %v", kind, seed, err)
			}
			for k, li := range ann.SpikingLayers() {
				shift := float32(float64(th[k][0]) / (2 * T))
				switch before := ann.Layers[ann.InputOf(li)].(type) {
				case *network.Add:
					after := snn.Layers[snn.InputOf(li)].(*network.Add)
					for c := range after.Bias {
						var b0 float32
						if before.Bias != nil {
							b0 = before.Bias[c]
						}
						if after.Bias[c] != b0+shift {
							t.Fatalf("%v seed %d: Add %q bias[%d] = %v, want %v", kind, seed, after.Name(), c, after.Bias[c], b0+shift)
						}
					}
				case *network.Conv2d:
					after := snn.Layers[snn.InputOf(li)].(*network.Conv2d)
					if after.Bias[0] != before.Bias[0]+shift {
						t.Fatalf("%v seed %d: conv %q bias = %v, want %v", kind, seed, after.Name(), after.Bias[0], before.Bias[0]+shift)
					}
				}
				if got := snn.Layers[li].(*network.Spiking).Threshold[0]; got != th[k][0] {
					t.Fatalf("θ %v, want %v", got, th[k][0])
				}
			}
			// The SNN simulates (the shared reference accepts it).
			if _, err := snnref.Run(snn, x[:ann.Input.Size()], nil, network.SimOptions{T: T}); err != nil {
				t.Fatalf("%v seed %d: the converted network does not simulate: %v", kind, seed, err)
			}
		}
	}
}
