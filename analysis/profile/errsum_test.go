package profile_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/evsnn/evsnn/analysis/profile"
	"github.com/evsnn/evsnn/internal/fixture"
	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/network"
)

// errorFigures is a profile's conversion error of every layer as JSON.
func errorFigures(t *testing.T, p *profile.Profile) string {
	t.Helper()
	var figs [][]*float64
	for _, l := range p.Layers {
		figs = append(figs, []*float64{l.MSE, l.ErrorL2, l.RelError, l.Pearson, l.ANNMean, l.SNNMean})
	}
	b, err := json.Marshal(figs)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The conversion error of images split into groups in any way — sums per
// group, written as JSON and read back, added in any order — is the
// conversion error of all of them, bit for bit.
func TestErrorSumsMergeExactly(t *testing.T) {
	for _, kind := range snnref.Kinds {
		run := fixture.RandomRun(t, kind, 3, 12, 9)
		want, err := profile.Build(run.Net, run.Result, run.ANN, profile.DefaultEnergy())
		if err != nil {
			t.Fatal(err)
		}
		layers := len(run.Result.Layers)
		r := rand.New(rand.NewPCG(uint64(kind), 9))
		for trial := range 4 {
			// Random cut points, groups added in a random order.
			cuts := []int{0}
			for i := 1; i < run.Count; i++ {
				if r.IntN(3) == 0 || trial == 0 {
					cuts = append(cuts, i)
				}
			}
			cuts = append(cuts, run.Count)
			var groups [][]profile.ErrorSums
			for g := 0; g+1 < len(cuts); g++ {
				lo, hi := cuts[g], cuts[g+1]
				sums := make([]profile.ErrorSums, layers)
				for k, st := range run.Result.Layers {
					n := st.Neurons
					sp := run.Net.Layers[st.Layer].(*network.Spiking)
					shapes, _ := run.Net.Shapes()
					th := make([]float32, n)
					for j := range th {
						th[j] = sp.ThresholdAt(shapes[st.Layer], j)
					}
					sums[k].AddImages(run.ANN.Output[st.Layer][lo*n:hi*n], run.Result.Counts[k][lo*n:hi*n], th, run.Result.T)
				}
				b, err := json.Marshal(sums)
				if err != nil {
					t.Fatal(err)
				}
				var back []profile.ErrorSums
				if err := json.Unmarshal(b, &back); err != nil {
					t.Fatalf("%s: %v", b, err)
				}
				groups = append(groups, back)
			}
			r.Shuffle(len(groups), func(i, j int) { groups[i], groups[j] = groups[j], groups[i] })
			total := make([]profile.ErrorSums, layers)
			for _, g := range groups {
				for k := range total {
					if err := total[k].Add(g[k]); err != nil {
						t.Fatal(err)
					}
				}
			}
			got, err := profile.Build(run.Net, run.Result, nil, profile.DefaultEnergy())
			if err != nil {
				t.Fatal(err)
			}
			if err := got.SetConversionError(total); err != nil {
				t.Fatal(err)
			}
			if a, b := errorFigures(t, got), errorFigures(t, want); a != b {
				t.Errorf("%v, %d groups: %s\nall at once: %s", kind, len(groups), a, b)
			}
		}
	}
}

// Exact sums add float64 values without rounding: 1e16 + 1 − 1e16 is 1,
// in any order, and survive JSON.
func TestExactSum(t *testing.T) {
	var a, b profile.ExactSum
	a.AddFloat(1e16)
	a.AddFloat(1)
	a.AddFloat(-1e16)
	b.AddFloat(-1e16)
	b.AddFloat(1e16)
	b.AddFloat(1)
	if a.Float64() != 1 || !a.Equal(b) {
		t.Errorf("sums %v and %v, want 1", a.Float64(), b.Float64())
	}
	var c profile.ExactSum
	c.AddProduct(1+math.Pow(2, -52), 1+math.Pow(2, -52)) // 1 + 2^-51 + 2^-104: not a float64
	c.AddFloat(-1)
	c.AddFloat(-math.Pow(2, -51))
	if c.Float64() != math.Pow(2, -104) {
		t.Errorf("product residue %g, want 2^-104", c.Float64())
	}
	js, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var back profile.ExactSum
	if err := json.Unmarshal(js, &back); err != nil || !back.Equal(c) {
		t.Errorf("%s read back as %v (%v)", js, back.Float64(), err)
	}
	// A copy shares nothing with the original.
	d := c
	d.AddFloat(5)
	if c.Float64() != math.Pow(2, -104) {
		t.Errorf("adding to a copy changed the original: %g", c.Float64())
	}
	var bad profile.ExactSum
	bad.AddFloat(math.Inf(1))
	if bad.Finite() || !math.IsNaN(bad.Float64()) {
		t.Error("an infinite term kept the sum finite")
	}
	if js, _ := json.Marshal(bad); string(js) != `"nonfinite"` {
		t.Errorf("non-finite sum as %s", js)
	}
	for _, s := range []string{`"0x1p+99999999999"`, `"abc"`, `"0x.8p+1x"`} {
		var e profile.ExactSum
		if err := json.Unmarshal([]byte(s), &e); err == nil {
			t.Errorf("%s accepted as %v", s, e.Float64())
		}
	}
}
