package calibrate

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/network"
)

// smallNet is a seeded random CNN with the fixture's structure in
// miniature: conv → relu → pool → conv → relu → pool → flatten → fc →
// relu → fc. Weights are drawn so that every layer is active.
func smallNet(seed uint64) *network.Network {
	r := rand.New(rand.NewPCG(seed, 7))
	fill := func(n int, scale, shift float64) []float32 {
		w := make([]float32, n)
		for i := range w {
			w[i] = float32((r.Float64()*2-1)*scale + shift)
		}
		return w
	}
	net := &network.Network{
		Input: network.Shape{1, 8, 8},
		Layers: []network.Layer{
			&network.Conv2d{LayerName: "conv1", InC: 1, OutC: 4, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1,
				Weight: fill(36, 0.5, 0.1), Bias: fill(4, 0.1, 0)},
			&network.ReLU{LayerName: "relu1"},
			&network.AvgPool2d{LayerName: "pool1", KH: 2, KW: 2, StrideH: 2, StrideW: 2},
			&network.Conv2d{LayerName: "conv2", InC: 4, OutC: 6, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1,
				Weight: fill(216, 0.4, 0.05), Bias: fill(6, 0.1, 0)},
			&network.ReLU{LayerName: "relu2"},
			&network.AvgPool2d{LayerName: "pool2", KH: 2, KW: 2, StrideH: 2, StrideW: 2},
			&network.Flatten{LayerName: "flatten"},
			&network.Linear{LayerName: "fc1", In: 24, Out: 16, Weight: fill(384, 0.5, 0.02), Bias: fill(16, 0.1, 0)},
			&network.ReLU{LayerName: "relu3"},
			&network.Linear{LayerName: "fc2", In: 16, Out: 3, Weight: fill(48, 0.5, 0), Bias: fill(3, 0.1, 0)},
		},
	}
	if err := net.Validate(); err != nil {
		panic(err)
	}
	return net
}

func randomImages(seed uint64, n, size int) []float32 {
	r := rand.New(rand.NewPCG(seed, 11))
	x := make([]float32, n*size)
	// Sparse, MNIST-like: most pixels dark, a quarter of them bright.
	for i := range x {
		if r.Float64() < 0.25 {
			x[i] = float32(0.5 + 0.5*r.Float64())
		}
	}
	return x
}

// TestLayerSimulatorMatchesNaive checks the calibrator's layer-by-layer
// simulator (recorded spike trains, sparse drive, closed-form-free
// dynamics) against a step-by-step simulation of SPEC §2, spike count for
// spike count, for several neuron models.
func TestLayerSimulatorMatchesNaive(t *testing.T) {
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
			if err := net.Validate(); err != nil {
				t.Fatal(err)
			}
			wantPred, wantCounts := naiveRun(t, net, images, tc.T)
			gotPred, gotCounts := layeredRun(t, net, images, tc.T)
			total := 0
			for k := range wantCounts {
				diff := 0
				for i := range wantCounts[k] {
					total += int(wantCounts[k][i])
					if wantCounts[k][i] != gotCounts[k][i] {
						diff++
					}
				}
				// The drive is summed in another order than the naive
				// conv/linear kernels: allow a rare rounding tie.
				if diff > len(wantCounts[k])/1000 {
					t.Errorf("layer %d: %d of %d spike counts differ", k, diff, len(wantCounts[k]))
				}
			}
			if total == 0 {
				t.Fatal("no spikes at all: the test network is dead")
			}
			if !reflect.DeepEqual(wantPred, gotPred) {
				t.Errorf("predictions differ:\nnaive   %v\nlayered %v", wantPred, gotPred)
			}
		})
	}
}

// TestErrorFallsAtEachStep checks on a small network that the layer's
// conversion error falls at each step of each pipeline: every step that is
// kept lowers it, and a correction that would raise it is undone (after
// trying it at half and quarter strength), so the error never rises.
func TestErrorFallsAtEachStep(t *testing.T) {
	net := smallNet(2)
	images := randomImages(5, 128, 64)
	for _, tc := range []struct {
		method string
		T      int
	}{
		{"light", 4},
		{"advanced", 4},
		{"advanced,wc", 8},
		{"search,shift,bc,pc", 16},
		{"shift,wc,bc", 4},
		{"bc", 8},
		{"pc", 8},
		{"shift", 4},
		{"search", 8},
	} {
		t.Run(tc.method, func(t *testing.T) {
			m, err := ParseMethod(tc.method)
			if err != nil {
				t.Fatal(err)
			}
			single := !strings.Contains(tc.method, ",") && !strings.Contains(tc.method, "light") && !strings.Contains(tc.method, "advanced")
			_, rep, err := Calibrate(net, images, Options{T: tc.T, Method: m, Seed: 1, WCIters: 100, WCLR: 1e-3})
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range rep.Layers {
				t.Logf("%s: %s", l.Name, stepsString(l.Steps))
				errNow := l.Steps[0].After
				for _, s := range l.Steps[1:] {
					if s.Before != errNow {
						t.Errorf("%s, step %s starts from error %.5g, the previous step left %.5g", l.Name, s.Step, s.Before, errNow)
					}
					if s.Kept {
						if !(s.After < s.Before) {
							t.Errorf("%s, step %s kept although the error %.5g → %.5g does not fall", l.Name, s.Step, s.Before, s.After)
						}
						errNow = s.After
					}
				}
				if l.Error != errNow || !(l.Error < l.Steps[0].After) {
					t.Errorf("%s: error %.5g → %.5g overall", l.Name, l.Steps[0].After, l.Error)
				}
				// A single step applied to the plain conversion lowers the
				// error by itself, at full strength, on every layer.
				if single && (len(l.Steps) != 2 || !l.Steps[1].Kept) {
					t.Errorf("%s: %s alone did not lower the error at full strength: %s", l.Name, tc.method, stepsString(l.Steps))
				}
			}
		})
	}
}

func stepsString(steps []StepReport) string {
	var b strings.Builder
	for i, s := range steps {
		if i == 0 {
			b.WriteString(formatFloat(s.After))
			continue
		}
		b.WriteString(" →" + s.Step + "→ " + formatFloat(s.After))
		if !s.Kept {
			b.WriteString(" (undone)")
		}
	}
	return b.String()
}

func formatFloat(f float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.4f", f), "0"), ".")
}

// TestDeterministic: the same inputs and seed give the same network for
// any number of workers.
func TestDeterministic(t *testing.T) {
	net := smallNet(3)
	images := randomImages(9, 64, 64)
	run := func(workers int) *network.Network {
		snn, _, err := Calibrate(net, images, Options{T: 4, Method: AdvancedWC.union(Method{BC: true}), Seed: 42, Workers: workers, WCIters: 50})
		if err != nil {
			t.Fatal(err)
		}
		return snn
	}
	a, b, c := run(1), run(3), run(1)
	if !reflect.DeepEqual(a, b) || !reflect.DeepEqual(a, c) {
		t.Fatal("calibration is not deterministic")
	}
	if cb := a.Meta.Calibration; cb == nil || cb.T != 4 || cb.Seed != 42 || cb.Images != 64 || cb.Method != "search,shift,wc,bc,pc" {
		t.Fatalf("provenance %+v", a.Meta.Calibration)
	}
	if net.IsSNN() || net.Meta.Calibration != nil {
		t.Fatal("Calibrate modified its input")
	}
}

func TestParseMethod(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		err      bool
	}{
		{"light", "search,shift,bc", false},
		{"advanced", "search,shift,pc", false},
		{"advanced+wc", "search,shift,wc,pc", false},
		{"advanced,wc", "search,shift,wc,pc", false},
		{"bc,pc,wc", "wc,bc,pc", false},
		{" PC , search ", "search,pc", false},
		{"none", "none", false},
		{"", "", true},
		{"light,xx", "", true},
	} {
		m, err := ParseMethod(tc.in)
		if (err != nil) != tc.err {
			t.Errorf("ParseMethod(%q): error %v", tc.in, err)
			continue
		}
		if err == nil && m.String() != tc.want {
			t.Errorf("ParseMethod(%q) = %s, want %s", tc.in, m, tc.want)
		}
	}
	if AdvancedWC.Name() != "advanced+wc" || Light.Name() != "light" {
		t.Error("pipeline names")
	}
}

// TestFromSNN: a converted SNN is accepted (its bias shift undone and
// redone for the new T), a calibrated one is refused.
func TestFromSNN(t *testing.T) {
	ann := smallNet(4)
	images := randomImages(1, 32, 64)
	want, _, err := Calibrate(ann, images, Options{T: 4, Method: Light})
	if err != nil {
		t.Fatal(err)
	}
	// A shifted conversion for T=8 of the same ANN.
	snn := ann.Clone()
	for i, l := range snn.Layers {
		if l.Kind() == network.KindReLU {
			snn.Layers[i] = &network.Spiking{LayerName: l.Name(), Threshold: []float32{1}, Alpha: 1, Reset: network.ResetSoft}
			b := biasOf(snn.Layers[i-1])
			for c := range b {
				b[c] += 1.0 / 16
			}
		}
	}
	snn.Meta.Conversion = &network.Conversion{Statistic: "max", Neuron: "if", Alpha: 1, Reset: network.ResetSoft, BiasShift: true, BiasShiftT: 8}
	got, _, err := Calibrate(snn, images, Options{T: 4, Method: Method{Search: true, BC: true}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Meta.Calibration.Method != "search,shift,bc" {
		t.Errorf("method %q: the SNN's bias shift should imply shift", got.Meta.Calibration.Method)
	}
	for i := range want.Layers {
		if b1, b2 := biasOf(want.Layers[i]), biasOf(got.Layers[i]); b1 != nil {
			for c := range b1 {
				if d := b1[c] - b2[c]; d > 1e-5 || d < -1e-5 {
					t.Fatalf("layer %d bias %d: %v from the ANN, %v from the shifted SNN", i, c, b1[c], b2[c])
				}
			}
		}
	}
	if _, _, err := Calibrate(got, images, Options{T: 4, Method: Light}); !errors.Is(err, ErrCalibrated) {
		t.Errorf("calibrating a calibrated network: %v", err)
	}
}

func TestBadInput(t *testing.T) {
	net := smallNet(6)
	images := randomImages(1, 4, 64)
	for _, tc := range []struct {
		name   string
		images []float32
		opts   Options
	}{
		{"T=0", images, Options{T: 0, Method: Light}},
		{"ragged images", images[:100], Options{T: 4, Method: Light}},
		{"no images", nil, Options{T: 4, Method: Light}},
		{"negative step", images, Options{T: 4, Method: Light, Step: -1}},
		{"too many candidates", images, Options{T: 4, Method: Light, Candidates: 200}},
	} {
		if _, _, err := Calibrate(net, tc.images, tc.opts); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}
