package calibrate

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/network"
)

// refEngine is internal/snnref as a network.Engine, for Options.Engine.
type refEngine struct{}

func (refEngine) Name() string { return "reference" }

func (refEngine) Run(net *network.Network, images []float32, labels []int, opts network.SimOptions) (*network.SimResult, error) {
	return snnref.Run(net, images, labels, opts)
}

// compareWithReference simulates net with the calibrator's layer simulator
// and with internal/snnref and returns the number of differing spike
// counts per layer and of differing predictions; total is the number of
// spikes.
func compareWithReference(t *testing.T, net *network.Network, images []float32, T int) (diff []int, preds, total int) {
	t.Helper()
	ref, err := snnref.Run(net, images, nil, network.SimOptions{T: T, KeepCounts: true})
	if err != nil {
		t.Fatal(err)
	}
	got, err := layeredRun(net, images, T, 3, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.counts) != len(ref.Counts) {
		t.Fatalf("%d spiking layers, the reference has %d", len(got.counts), len(ref.Counts))
	}
	diff = make([]int, len(ref.Counts))
	for k := range ref.Counts {
		for i, c := range ref.Counts[k] {
			total += int(c)
			if got.counts[k][i] != c {
				diff[k]++
			}
		}
	}
	for i, p := range ref.Predictions {
		if got.preds[i] != p {
			preds++
		}
	}
	return diff, preds, total
}

// TestLayerSimulatorMatchesReference checks the calibrator's layer
// simulator (recorded spike trains, sparse drive summed over every
// projection, count-gated MaxPool events derived from the trains, the
// readout from the rates) against internal/snnref on random dyadic graph
// networks of every kind and neuron model, where every sum is exact: spike
// count for spike count and prediction for prediction.
func TestLayerSimulatorMatchesReference(t *testing.T) {
	for _, kind := range snnref.Kinds {
		for _, alpha := range []float32{1, 0.5} {
			for _, reset := range []network.Reset{network.ResetSoft, network.ResetHard} {
				for seed := range uint64(3) {
					name := fmt.Sprintf("%v/alpha=%v/%s/%d", kind, alpha, reset, seed)
					t.Run(name, func(t *testing.T) {
						r := rand.New(rand.NewPCG(seed, uint64(kind)*10+uint64(alpha*2)))
						net := snnref.RandomNet(r, snnref.Config{Kind: kind, Alpha: alpha, Reset: reset})
						images := snnref.RandomImages(r, net, 12)
						T := 3 + r.IntN(6)
						diff, preds, total := compareWithReference(t, net, images, T)
						if total == 0 {
							t.Fatal("no spikes: the test network is dead")
						}
						for k, d := range diff {
							if d != 0 {
								t.Errorf("spiking layer %d: %d spike counts differ from the reference", k, d)
							}
						}
						if preds != 0 {
							t.Errorf("%d predictions differ from the reference", preds)
						}
					})
				}
			}
		}
	}
}

// TestLayerSimulatorSmallNet is the same check on smallNet, whose weights
// are not dyadic: the drive is summed in another order than the
// reference's, so a rare rounding tie may flip a spike.
func TestLayerSimulatorSmallNet(t *testing.T) {
	images := randomImages(3, 20, 64)
	for _, tc := range []struct {
		name  string
		T     int
		setup func(*network.Spiking, int)
	}{
		{"if-soft", 8, func(*network.Spiking, int) {}},
		{"lif-hard", 6, func(s *network.Spiking, _ int) { s.Alpha, s.Reset = 0.8, network.ResetHard }},
		{"v0-half-per-channel", 5, func(s *network.Spiking, k int) {
			s.V0Fraction = 0.5
			if k < 2 {
				s.Threshold = []float32{0.3, 0.5, 0.7, 0.9, 1.1, 1.3}[:[]int{4, 6}[k]]
			}
		}},
		{"v0-per-neuron", 4, func(s *network.Spiking, k int) {
			n := []int{256, 96, 16}[k]
			s.V0 = make([]float32, n)
			for j := range s.V0 {
				s.V0[j] = float32(j%7)*0.1 - 0.3
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			net := smallNet(1)
			k := 0
			for i, l := range net.Layers {
				if l.Kind() == network.KindReLU {
					s := &network.Spiking{LayerName: l.Name(), Threshold: []float32{0.6 + 0.2*float32(k)}, Alpha: 1, Reset: network.ResetSoft}
					tc.setup(s, k)
					net.Layers[i] = s
					k++
				}
			}
			diff, preds, total := compareWithReference(t, net, images, tc.T)
			if total == 0 {
				t.Fatal("no spikes at all: the test network is dead")
			}
			for k, d := range diff {
				if d > 2 {
					t.Errorf("layer %d: %d spike counts differ from the reference", k, d)
				}
			}
			if preds > 0 {
				t.Errorf("%d predictions differ from the reference", preds)
			}
		})
	}
}

// annOf turns an SNN back into the ANN it stands for: every spiking layer
// becomes a ReLU.
func annOf(snn *network.Network) *network.Network {
	ann := snn.Clone()
	for i, l := range ann.Layers {
		if l.Kind() == network.KindSpiking {
			ann.Layers[i] = &network.ReLU{LayerName: l.Name()}
		}
	}
	return ann
}

// TestCalibratedGraphsMatchReference calibrates random graph ANNs (ResNet
// blocks with identity and 1×1-conv shortcuts, MaxPools after spiking
// layers and on the input) with every pipeline and checks that the
// calibrator's own simulation of the result — the spike counts its report
// rests on — is what internal/snnref computes for the calibrated network.
// Calibrated biases and potentials are no longer dyadic, so the drive's
// summation order may flip a spike at an exact tie: allow one in 10^4.
func TestCalibratedGraphsMatchReference(t *testing.T) {
	for _, kind := range snnref.Kinds {
		for _, method := range []string{"light", "advanced", "advanced+wc", "search,shift,wc,bc,pc"} {
			t.Run(fmt.Sprintf("%v/%s", kind, method), func(t *testing.T) {
				m, err := ParseMethod(method)
				if err != nil {
					t.Fatal(err)
				}
				r := rand.New(rand.NewPCG(7, uint64(kind)))
				ann := annOf(snnref.RandomNet(r, snnref.Config{Kind: kind, Alpha: 1, Reset: network.ResetSoft}))
				images := snnref.RandomImages(r, ann, 48)
				snn, rep, err := Calibrate(ann, images, Options{T: 4, Method: m, Seed: 3, WCIters: 40, WCLR: 1e-3, Engine: refEngine{}})
				if err != nil {
					t.Fatal(err)
				}
				neurons, mismatch := 0, 0
				for _, l := range rep.Layers {
					neurons += l.Neurons * rep.Images
					mismatch += *l.EngineMismatch
					if d := *l.EngineError - l.Error; d > 1e-6*(1+l.Error) || d < -1e-6*(1+l.Error) {
						t.Errorf("%s: error %.6g, the reference measures %.6g", l.Name, l.Error, *l.EngineError)
					}
				}
				if mismatch*10000 > neurons {
					t.Errorf("%d of %d spike counts differ from the reference", mismatch, neurons)
				}
				// The layer simulator's end-to-end predictions agree too.
				ref, err := snnref.Run(snn, images, nil, network.SimOptions{T: 4})
				if err != nil {
					t.Fatal(err)
				}
				got, err := layeredRun(snn, images, 4, 0, false)
				if err != nil {
					t.Fatal(err)
				}
				if d := diffCount(ref.Predictions, got.preds); d > 0 {
					t.Errorf("%d of %d predictions differ from the reference", d, len(got.preds))
				}
			})
		}
	}
}

// randomANN is a random graph ANN of the given kind ("resnet", "vgg",
// "chain", "mlp") from snnref.RandomNet, with count random images.
func randomANN(tb testing.TB, kind string, count int) (*network.Network, []float32) {
	tb.Helper()
	for _, k := range snnref.Kinds {
		if k.String() == kind {
			r := rand.New(rand.NewPCG(11, uint64(k)))
			ann := annOf(snnref.RandomNet(r, snnref.Config{Kind: k, Alpha: 1, Reset: network.ResetSoft}))
			return ann, snnref.RandomImages(r, ann, count)
		}
	}
	tb.Fatalf("no random network kind %q", kind)
	return nil, nil
}

func diffCount(a, b []int) int {
	n := 0
	for i := range a {
		if a[i] != b[i] {
			n++
		}
	}
	return n + max(len(a), len(b)) - min(len(a), len(b))
}
