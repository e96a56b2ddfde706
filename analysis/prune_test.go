package analysis_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/analysis"
	"github.com/evsnn/evsnn/convert"
	"github.com/evsnn/evsnn/internal/fixture"
	"github.com/evsnn/evsnn/internal/testenv"
	"github.com/evsnn/evsnn/network"
)

// lenetData is the built-in MNIST: its test images and first training
// images.
func lenetData(t *testing.T) analysis.Data {
	t.Helper()
	d, err := analysis.ParseData("mnist", "", "")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Pruning fc1 of the LeNet fixture leaves everything before it alone
// (relu1 and relu2 spike as before, relu1's SOPs are the same) and cuts
// the SOPs of relu2's spikes about as much as fc1's synapses; the pruned
// SNN holds fc1 as a SparseLinear of the kept synapses, converted or
// calibrated.
func TestPruneModelLeNet(t *testing.T) {
	data := lenetData(t)
	test, err := data.Test(64)
	if err != nil {
		t.Fatal(err)
	}
	for _, method := range []string{"", "light", "advanced+wc"} {
		t.Run("method="+method, func(t *testing.T) {
			if method != "" && (testing.Short() || testenv.RaceEnabled) {
				t.Skip("calibration of LeNet: too slow under -short or -race")
			}
			p, err := analysis.PruneModel(fixture.LeNet(t), data, test, analysis.PruneOptions{
				Sparsity: 0.9, Layers: []string{"fc1"}, Calibrate: method, T: 16, CalibImages: 64}, analysis.Env{})
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Report.Layers) != 1 || p.Report.Layers[0].After != 20070 {
				t.Fatalf("pruned %+v, want fc1 with 20,070 of 200,704 synapses", p.Report.Layers)
			}
			if d := p.Before.Synapses - p.After.Synapses; d != 200704-20070 {
				t.Errorf("synapses %d → %d: %d fewer, want %d", p.Before.Synapses, p.After.Synapses, d, 200704-20070)
			}
			b, a := p.Before.Layers, p.After.Layers
			if len(b) != 3 || len(a) != 3 || b[0].Name != "relu1" || b[1].Name != "relu2" {
				t.Fatalf("layers %+v / %+v", b, a)
			}
			if method == "" {
				// Conversion: the thresholds of relu1 and relu2 come
				// from the unchanged layers before fc1.
				if a[0] != b[0] || a[1].SpikesPerImage != b[1].SpikesPerImage {
					t.Errorf("layers before fc1 changed: %+v → %+v", b[:2], a[:2])
				}
			}
			if r := a[1].SOPsPerImage / b[1].SOPsPerImage; !(r > 0.02 && r < 0.2) {
				t.Errorf("relu2's SOPs %.0f → %.0f (×%.3f): want about the 10 %% of fc1 kept", b[1].SOPsPerImage, a[1].SOPsPerImage, r)
			}
			if p.After.SOPsPerImage >= p.Before.SOPsPerImage {
				t.Errorf("SOPs %.0f → %.0f: pruning saved none", p.Before.SOPsPerImage, p.After.SOPsPerImage)
			}
			for _, s := range []analysis.PruneSide{p.Before, p.After} {
				if s.ANNAccuracy < 0.85 || s.SNNAccuracy < 0.85 {
					t.Errorf("accuracy ANN %.3f SNN %.3f on 64 images", s.ANNAccuracy, s.SNNAccuracy)
				}
			}
			i := p.SNN.Index("fc1")
			sp, ok := p.SNN.Layers[i].(*network.SparseLinear)
			if !ok || !p.SNN.IsSNN() || len(sp.Weights) > 20070 || len(sp.Weights) < 20000 {
				t.Fatalf("fc1 of the SNN: %T, SNN %v", p.SNN.Layers[i], p.SNN.IsSNN())
			}
			if method == "advanced+wc" {
				// Weight calibration trained the kept synapses, not
				// the removed ones: the same synapses, other weights.
				ann, _, err := convert.Prune(fixture.LeNet(t), 0.9, []string{"fc1"})
				if err != nil {
					t.Fatal(err)
				}
				kept := ann.Layers[ann.Index("fc1")].(*network.SparseLinear)
				if !slices.Equal(sp.Ptr, kept.Ptr) || !slices.Equal(sp.Targets, kept.Targets) || slices.Equal(sp.Weights, kept.Weights) {
					t.Errorf("fc1 after weight calibration: %d synapses (pruned ANN %d), weights changed: %v", len(sp.Weights), len(kept.Weights), !slices.Equal(sp.Weights, kept.Weights))
				}
			}
			if (method != "") != (p.SNN.Meta.Calibration != nil) {
				t.Errorf("method %q, calibration metadata %+v", method, p.SNN.Meta.Calibration)
			}
			var out bytes.Buffer
			if err := p.WriteText(&out); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"fc1", "SNN accuracy", "SOPs/image", "SOPs of relu2"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("text lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}

// Bad requests are bad input naming the problem.
func TestPruneModelErrors(t *testing.T) {
	data := lenetData(t)
	test, err := data.Test(8)
	if err != nil {
		t.Fatal(err)
	}
	snn := fixture.TinySNN(784)
	for _, tc := range []struct {
		name string
		net  *network.Network
		o    analysis.PruneOptions
		want string
	}{
		{"snn", snn, analysis.PruneOptions{Sparsity: 0.5, T: 8}, "prune takes the ANN"},
		{"sparsity 1", fixture.TinyANN(784), analysis.PruneOptions{Sparsity: 1, T: 8}, "sparsity 1"},
		{"negative sparsity", fixture.TinyANN(784), analysis.PruneOptions{Sparsity: -0.1, T: 8}, "sparsity -0.1"},
		{"conv layer", fixture.LeNet(t), analysis.PruneOptions{Sparsity: 0.5, T: 8, Layers: []string{"conv1"}}, "not a Linear layer"},
		{"no layer", fixture.LeNet(t), analysis.PruneOptions{Sparsity: 0.5, T: 8, Layers: []string{"fc7"}}, `"fc7"`},
		{"bad method", fixture.LeNet(t), analysis.PruneOptions{Sparsity: 0.5, T: 8, Calibrate: "frob"}, "frob"},
		{"T 0", fixture.LeNet(t), analysis.PruneOptions{Sparsity: 0.5}, "--T 0"},
		{"wrong input", fixture.TinyANN(5), analysis.PruneOptions{Sparsity: 0.5, T: 8}, "5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := analysis.PruneModel(tc.net, data, test, tc.o, analysis.Env{})
			checkBad(t, err, tc.want)
		})
	}
}
