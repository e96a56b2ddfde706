package convert_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/convert"
	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/network"
)

// pruneNet is input [4] → fc1 (3×4) → ReLU → fc2 (2×3), weights chosen
// so that the order by magnitude is known, with a tie and a zero.
func pruneNet() *network.Network {
	return &network.Network{Input: network.Shape{4}, Layers: []network.Layer{
		&network.Linear{LayerName: "fc1", In: 4, Out: 3, Weight: []float32{
			0.5, -0.1, 0, 2,
			-0.3, 0.1, 1, -4,
			0.2, 0.7, -0.6, 0.05,
		}, Bias: []float32{0.1, 0.2, 0.3}},
		&network.ReLU{LayerName: "relu"},
		&network.Linear{LayerName: "fc2", In: 3, Out: 2, Weight: []float32{1, -2, 3, 0.5, 0.25, -0.125}, Bias: []float32{0, 1}},
	}}
}

func TestPrune(t *testing.T) {
	for _, c := range []struct {
		name     string
		sparsity float64
		which    []string
		// dense weights of fc1 and fc2 after pruning
		fc1, fc2 []float32
		report   []convert.PrunedLayer
	}{
		{"half of fc1", 0.5, []string{"fc1"},
			// 6 of 12 removed: 0, 0.05, then the tie -0.1/0.1 (both), 0.2, -0.3.
			[]float32{0.5, 0, 0, 2, 0, 0, 1, -4, 0, 0.7, -0.6, 0}, nil,
			[]convert.PrunedLayer{{Layer: 0, Name: "fc1", Weights: 12, Before: 11, After: 6, Cut: 0.3}}},
		{"a quarter of both", 0.25, []string{"fc1", "fc2"},
			// fc1: 3 removed (0, 0.05, then -0.1 of the tied pair: the earlier);
			// fc2: round(1.5) = 2 removed (-0.125, 0.25).
			[]float32{0.5, 0, 0, 2, -0.3, 0.1, 1, -4, 0.2, 0.7, -0.6, 0}, []float32{1, -2, 3, 0.5, 0, 0},
			[]convert.PrunedLayer{{Layer: 0, Name: "fc1", Weights: 12, Before: 11, After: 9, Cut: 0.1}, {Layer: 2, Name: "fc2", Weights: 6, Before: 6, After: 4, Cut: 0.25}}},
		{"by default all but the readout", 0.5, nil,
			[]float32{0.5, 0, 0, 2, 0, 0, 1, -4, 0, 0.7, -0.6, 0}, nil,
			[]convert.PrunedLayer{{Layer: 0, Name: "fc1", Weights: 12, Before: 11, After: 6, Cut: 0.3}}},
		{"nothing", 0, []string{"fc2"}, nil, []float32{1, -2, 3, 0.5, 0.25, -0.125},
			[]convert.PrunedLayer{{Layer: 2, Name: "fc2", Weights: 6, Before: 6, After: 6, Cut: 0}}},
		{"one zero only", 0.05, []string{"fc1"}, // round(0.6) = 1: the zero that was there
			[]float32{0.5, -0.1, 0, 2, -0.3, 0.1, 1, -4, 0.2, 0.7, -0.6, 0.05}, nil,
			[]convert.PrunedLayer{{Layer: 0, Name: "fc1", Weights: 12, Before: 11, After: 11, Cut: 0}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ann := pruneNet()
			orig := ann.Clone()
			got, rep, err := convert.Prune(ann, c.sparsity, c.which)
			if err != nil {
				t.Fatal(err)
			}
			for k, l := range ann.Layers {
				if l.(interface{ Name() string }).Name() != orig.Layers[k].Name() || l.Kind() != orig.Layers[k].Kind() {
					t.Fatal("the ANN was modified")
				}
			}
			if !slices.Equal(ann.Layers[0].(*network.Linear).Weight, orig.Layers[0].(*network.Linear).Weight) {
				t.Fatal("the ANN's weights were modified")
			}
			for _, w := range []struct {
				i    int
				want []float32
			}{{0, c.fc1}, {2, c.fc2}} {
				if w.want == nil {
					if got.Layers[w.i].Kind() != network.KindLinear {
						t.Errorf("layer %d not selected but %s", w.i, got.Layers[w.i].Kind())
					}
					continue
				}
				sp, ok := got.Layers[w.i].(*network.SparseLinear)
				if !ok {
					t.Fatalf("layer %d is %s, want sparselinear", w.i, got.Layers[w.i].Kind())
				}
				if !slices.Equal(sp.Dense(), w.want) {
					t.Errorf("layer %d: weights %v, want %v", w.i, sp.Dense(), w.want)
				}
				if !slices.Equal(sp.Bias, orig.Layers[w.i].(*network.Linear).Bias) {
					t.Errorf("layer %d: bias changed", w.i)
				}
			}
			if !slices.Equal(rep.Layers, c.report) || rep.Sparsity != c.sparsity {
				t.Errorf("report %+v, want %+v", rep.Layers, c.report)
			}
			if s := rep.String(); !strings.Contains(s, "total") || strings.Count(s, "\n") != len(c.report)+3 {
				t.Errorf("report table:\n%s", s)
			}
		})
	}
}

func TestPruneErrors(t *testing.T) {
	conv := &network.Network{Input: network.Shape{1, 4, 4}, Layers: []network.Layer{
		&network.Conv2d{LayerName: "c", InC: 1, OutC: 1, KH: 1, KW: 1, StrideH: 1, StrideW: 1, Weight: []float32{1}, Bias: []float32{0}},
		&network.ReLU{LayerName: "r"},
		&network.Conv2d{LayerName: "out", InC: 1, OutC: 1, KH: 4, KW: 4, StrideH: 1, StrideW: 1, Weight: make([]float32, 16), Bias: []float32{0}},
	}}
	onlyReadout := &network.Network{Input: network.Shape{1, 4, 4}, Layers: []network.Layer{
		&network.Conv2d{LayerName: "c", InC: 1, OutC: 1, KH: 1, KW: 1, StrideH: 1, StrideW: 1, Weight: []float32{1}, Bias: []float32{0}},
		&network.ReLU{LayerName: "r"},
		&network.Flatten{LayerName: "f"},
		&network.Linear{LayerName: "fc", In: 16, Out: 2, Weight: make([]float32, 32), Bias: make([]float32, 2)},
	}}
	for _, c := range []struct {
		name     string
		net      *network.Network
		sparsity float64
		which    []string
		want     string
	}{
		{"sparsity 1", pruneNet(), 1, nil, "sparsity 1: must be in [0, 1)"},
		{"negative", pruneNet(), -0.1, nil, "must be in [0, 1)"},
		{"NaN", pruneNet(), math.NaN(), nil, "must be in [0, 1)"},
		{"unknown layer", pruneNet(), 0.5, []string{"fc3"}, `no layer named "fc3"`},
		{"a ReLU", pruneNet(), 0.5, []string{"relu"}, `layer 1 (relu "relu") is not a Linear layer`},
		{"twice", pruneNet(), 0.5, []string{"fc1", "fc1"}, `"fc1" named twice`},
		{"empty list", pruneNet(), 0.5, []string{}, "no layer named"},
		{"no Linear", conv, 0.5, nil, "no Linear layer"},
		{"only the readout", onlyReadout, 0.5, nil, `no Linear layer to prune but its readout "fc"`},
		{"nil", nil, 0.5, nil, "nil network"},
	} {
		_, _, err := convert.Prune(c.net, c.sparsity, c.which)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want one line with %q", c.name, err, c.want)
		}
	}
}

// TestPruneProperties on random dyadic networks: each pruned layer keeps exactly
// n − round(s·n) synapses when it had no zero weight, every kept |w| is at
// least the cut and every removed one at most, with its weight unchanged;
// pruning a pruned network further gives what pruning the original to that
// sparsity gives.
func TestPruneProperties(t *testing.T) {
	for seed := range uint64(6) {
		r := rand.New(rand.NewPCG(seed, 31))
		net := snnref.RandomNet(r, snnref.Config{Kind: snnref.Kinds[seed%4], Alpha: 1, Reset: network.ResetSoft})
		for _, l := range net.Layers {
			if lin, ok := l.(*network.Linear); ok {
				for k := range lin.Weight {
					// Never zero, with ties.
					for lin.Weight[k] == 0 {
						lin.Weight[k] = snnref.Dyadic(r, -24, 24)
					}
				}
			}
		}
		var linears []string // the readout included
		for _, l := range net.Layers {
			if l.Kind() == network.KindLinear {
				linears = append(linears, l.Name())
			}
		}
		if len(linears) == 0 {
			continue
		}
		prev := net
		for _, s := range []float64{0.3, 0.6, 0.9} {
			got, rep, err := convert.Prune(net, s, linears)
			if err != nil {
				t.Fatal(err)
			}
			again, _, err := convert.Prune(prev, s, linears)
			if err != nil {
				t.Fatal(err)
			}
			for _, pl := range rep.Layers {
				orig := net.Layers[pl.Layer].(*network.Linear)
				sp := got.Layers[pl.Layer].(*network.SparseLinear)
				n := len(orig.Weight)
				if want := n - int(math.Round(s*float64(n))); pl.After != want || len(sp.Weights) != want || pl.Before != n {
					t.Fatalf("seed %d s=%v layer %d: %d → %d synapses, want %d → %d", seed, s, pl.Layer, pl.Before, pl.After, n, want)
				}
				dense := sp.Dense()
				for k, w := range orig.Weight {
					a := float32(math.Abs(float64(w)))
					if kept := dense[k] != 0; kept && a < pl.Cut || !kept && a > pl.Cut || kept && dense[k] != w {
						t.Fatalf("seed %d s=%v layer %d weight %d: %v kept=%v, cut %v", seed, s, pl.Layer, k, w, kept, pl.Cut)
					}
				}
				// Pruning the network pruned to a lower sparsity gives the
				// same synapses (magnitude order does not change).
				sp2 := again.Layers[pl.Layer].(*network.SparseLinear)
				if !slices.Equal(sp2.Dense(), dense) {
					t.Fatalf("seed %d s=%v layer %d: pruning again differs from pruning once", seed, s, pl.Layer)
				}
			}
			prev = got
		}
	}
}
