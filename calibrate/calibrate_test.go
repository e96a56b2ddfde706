package calibrate

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/format/modelfile"
	"github.com/evsnn/evsnn/internal/testenv"
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

// TestErrorFallsAtEachStep checks, on a chain and on graphs (residual
// blocks with identity and 1×1-conv shortcuts, MaxPools), that the layer's
// conversion error falls at each step of each pipeline: every step that is
// kept lowers it and one that would raise it is undone, so it never
// rises; on the chain every single step alone lowers it on every layer.
func TestErrorFallsAtEachStep(t *testing.T) {
	type net struct {
		name   string
		ann    *network.Network
		images []float32
	}
	nets := []net{{"chain", smallNet(2), randomImages(5, 128, 64)}}
	graphImages, wcIters := 96, 100
	if testenv.RaceEnabled {
		graphImages, wcIters = 32, 30
	}
	for _, kind := range []string{"resnet", "vgg"} {
		ann, images := randomANN(t, kind, graphImages)
		nets = append(nets, net{kind, ann, images})
	}
	for _, n := range nets {
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
			t.Run(n.name+"/"+tc.method, func(t *testing.T) {
				m, err := ParseMethod(tc.method)
				if err != nil {
					t.Fatal(err)
				}
				single := !strings.Contains(tc.method, ",") && !strings.Contains(tc.method, "light") && !strings.Contains(tc.method, "advanced")
				_, rep, err := Calibrate(n.ann, n.images, Options{T: tc.T, Method: m, Seed: 1, WCIters: wcIters, WCLR: 1e-3})
				if err != nil {
					t.Fatal(err)
				}
				for _, l := range rep.Layers {
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
					if l.Error != errNow || l.Error > l.Steps[0].After {
						t.Errorf("%s: error %.5g → %.5g overall", l.Name, l.Steps[0].After, l.Error)
					}
					if n.name == "chain" && single && (len(l.Steps) != 2 || !l.Steps[1].Kept) {
						t.Errorf("%s: %s alone did not lower the error: %s", l.Name, tc.method, stepsString(l.Steps))
					}
				}
			})
		}
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

// TestDeterministic: the same inputs and seed give the same network and
// the same report (but for wall times) for any number of workers, on a
// chain and on graphs (residual blocks, MaxPools).
func TestDeterministic(t *testing.T) {
	type tc struct {
		name   string
		net    *network.Network
		images []float32
	}
	images, wcIters := 64, 50
	if testenv.RaceEnabled {
		images, wcIters = 24, 10
	}
	cases := []tc{{"chain", smallNet(3), randomImages(9, images, 64)}}
	for _, kind := range []string{"resnet", "vgg"} {
		ann, x := randomANN(t, kind, images)
		cases = append(cases, tc{kind, ann, x})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run := func(workers int) (*network.Network, *Report) {
				snn, rep, err := Calibrate(c.net, c.images, Options{T: 4, Method: AdvancedWC.union(Method{BC: true}), Seed: 42, Workers: workers, WCIters: wcIters})
				if err != nil {
					t.Fatal(err)
				}
				rep.Wall, rep.WallSeconds = 0, 0
				for i := range rep.Layers {
					rep.Layers[i].Wall, rep.Layers[i].WallSeconds = 0, 0
				}
				return snn, rep
			}
			a, ra := run(1)
			for _, w := range []int{2, 4, 1} {
				b, rb := run(w)
				if !reflect.DeepEqual(a, b) {
					t.Fatalf("%d workers: the calibrated network differs from 1 worker's", w)
				}
				if !reflect.DeepEqual(ra, rb) {
					t.Fatalf("%d workers: the calibration report differs from 1 worker's", w)
				}
			}
			if cb := a.Meta.Calibration; cb == nil || cb.T != 4 || cb.Seed != 42 || cb.Images != images || cb.Method != "search,shift,wc,bc,pc" {
				t.Fatalf("provenance %+v", a.Meta.Calibration)
			}
			if c.net.IsSNN() || c.net.Meta.Calibration != nil {
				t.Fatal("Calibrate modified its input")
			}
		})
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
		{"NaN pixel", nanImages(images), Options{T: 4, Method: Light}},
		{"per layer and per channel", images, Options{T: 4, Method: Light, PerLayer: true, PerChannel: true}},
	} {
		if _, _, err := Calibrate(net, tc.images, tc.opts); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

// TestProvenance: the calibrated network's Meta.Calibration carries every
// layer's choices — threshold, the steps tried and kept, the errors — as
// the report gives them, and they survive a JSON round trip and a model
// file written and read back (format/modelfile).
func TestProvenance(t *testing.T) {
	ann, images := randomANN(t, "resnet", 32)
	snn, rep, err := Calibrate(ann, images, Options{T: 4, Method: Light.union(Advanced), Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	cb := snn.Meta.Calibration
	if len(cb.Layers) != len(rep.Layers) || len(rep.Layers) != len(snn.SpikingLayers()) {
		t.Fatalf("%d layers in the provenance, %d in the report, %d spiking layers", len(cb.Layers), len(rep.Layers), len(snn.SpikingLayers()))
	}
	for k, l := range rep.Layers {
		p := cb.Layers[k]
		sp := snn.Layers[snn.SpikingLayers()[k]].(*network.Spiking)
		if p.Name != l.Name || p.Name != sp.LayerName || !reflect.DeepEqual(p.Threshold, sp.Threshold) || p.ErrorAfter != l.Error || p.ErrorBefore != l.Steps[0].After {
			t.Errorf("layer %d: provenance %+v, report %+v", k, p, l)
		}
		if len(p.Steps) != len(l.Steps)-1 {
			t.Fatalf("layer %d: %d steps in the provenance, %d in the report", k, len(p.Steps), len(l.Steps)-1)
		}
		for i, s := range l.Steps[1:] {
			if q := p.Steps[i]; q.Step != s.Step || q.Kept != s.Kept || q.ErrorBefore != s.Before || q.ErrorAfter != s.After || q.Detail != s.Detail {
				t.Errorf("layer %d step %d: provenance %+v, report %+v", k, i, q, s)
			}
		}
	}
	b, err := json.Marshal(snn.Meta)
	if err != nil {
		t.Fatal(err)
	}
	var back network.Metadata
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Calibration, cb) {
		t.Errorf("JSON round trip: %+v, want %+v", back.Calibration, cb)
	}
	path := filepath.Join(t.TempDir(), "calibrated.evsnn")
	if err := modelfile.Save(path, snn); err != nil {
		t.Fatal(err)
	}
	loaded, err := modelfile.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(loaded.Meta.Calibration, cb) {
		t.Errorf("model file round trip: %+v, want %+v", loaded.Meta.Calibration, cb)
	}
	for k, i := range loaded.SpikingLayers() {
		if got := loaded.Layers[i].(*network.Spiking).Threshold; !reflect.DeepEqual(got, cb.Layers[k].Threshold) {
			t.Errorf("model file: layer %d θ %v, provenance %v", k, got, cb.Layers[k].Threshold)
		}
	}
	if c := snn.Clone(); !reflect.DeepEqual(c.Meta.Calibration, cb) || &c.Meta.Calibration.Layers[0] == &cb.Layers[0] {
		t.Error("Clone does not deep-copy the calibration provenance")
	}
}

func nanImages(x []float32) []float32 {
	y := append([]float32(nil), x...)
	y[70] = float32(math.NaN())
	return y
}
