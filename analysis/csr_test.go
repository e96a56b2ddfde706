package analysis_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/evsnn/evsnn/analysis"
	"github.com/evsnn/evsnn/internal/fixture"
	"github.com/evsnn/evsnn/network"
)

// smallCSR is format/scipy's test matrix (testdata/make_small.py): W [3, 6]
// with 5 entries, one an explicit zero.
const smallCSR = "../format/scipy/testdata/small_csr.npz"

var smallW = []float32{
	0, 1.5, 0, -0.25, 0, 0,
	0, 0, 0, 0, 0, 0,
	2, 0, 0, 0, -3, 0,
}

// ImportCSR puts the matrix into fc1 of the tiny ANN (its weights
// [3, 6]): a SparseLinear with every stored entry a synapse, the layer's
// bias kept, the network computing W·x + b with the new weights.
func TestImportCSR(t *testing.T) {
	for _, tc := range []struct {
		name string
		net  *network.Network
		file string
	}{
		{"ann", fixture.TinyANN(6), smallCSR},
		{"snn", fixture.TinySNN(6), smallCSR},
		{"f64 unsorted", fixture.TinyANN(6), "../format/scipy/testdata/small_csr_f64_unsorted.npz"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			net := tc.net
			net.Layers[0].(*network.Linear).Bias = []float32{0.5, -1, 0.25}
			out, rep, err := analysis.ImportCSR(net, "fc1", tc.file)
			if err != nil {
				t.Fatal(err)
			}
			sp, ok := out.Layers[0].(*network.SparseLinear)
			if !ok {
				t.Fatalf("fc1 is a %T", out.Layers[0])
			}
			if !slices.Equal(sp.Dense(), smallW) || !slices.Equal(sp.Bias, []float32{0.5, -1, 0.25}) {
				t.Errorf("weights %v bias %v", sp.Dense(), sp.Bias)
			}
			if rep.Before != 3 || rep.After != 5 || rep.Out != 3 || rep.In != 6 || rep.Kind != network.KindLinear || rep.SNN != net.IsSNN() {
				t.Errorf("report %+v", rep)
			}
			if _, ok := net.Layers[0].(*network.Linear); !ok {
				t.Error("the input network was modified")
			}
			x := []float32{1, 2, 3, 4, 5, 6}
			got, err := out.Forward(x, 1)
			if err != nil {
				t.Fatal(err)
			}
			want := []float32{0.5 + 3 - 1, -1, 0.25 + 2 - 15}
			if !slices.Equal(got.Output[0], want) {
				t.Errorf("fc1(x) = %v, want %v", got.Output[0], want)
			}
		})
	}
}

// Wrong layers, shapes and files are bad input, one line naming them.
func TestImportCSRErrors(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(smallCSR)
	if err != nil {
		t.Fatal(err)
	}
	trunc := filepath.Join(dir, "trunc.npz")
	if err := os.WriteFile(trunc, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, layer, file string
		inputs            int
		want              string
	}{
		{"no such layer", "fc9", smallCSR, 6, `"fc9"`},
		{"not linear", "relu1", smallCSR, 6, "not a Linear layer"},
		{"wrong shape", "fc2", smallCSR, 6, "[2, 3] (out, in), the matrix is [3, 6]"},
		{"other inputs", "fc1", smallCSR, 7, "the matrix is [3, 6]"},
		{"missing file", "fc1", filepath.Join(dir, "nope.npz"), 6, "nope.npz"},
		{"truncated file", "fc1", trunc, 6, "trunc.npz"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := analysis.ImportCSR(fixture.TinyANN(tc.inputs), tc.layer, tc.file)
			checkBad(t, err, tc.want)
		})
	}
}
