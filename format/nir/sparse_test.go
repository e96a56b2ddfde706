package nir

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/network"
)

// sparsify replaces every Linear layer of net by a SparseLinear holding
// about a third of its weights.
func sparsify(net *network.Network, r *rand.Rand) *network.Network {
	c := net.Clone()
	for i, l := range c.Layers {
		if lin, ok := l.(*network.Linear); ok {
			for k := range lin.Weight {
				if r.IntN(3) > 0 {
					lin.Weight[k] = 0
				}
			}
			c.Layers[i] = network.Sparsify(lin)
		}
	}
	return c
}

// densify turns the SparseLinear layers of net back into Linear ones: what
// NIR import gives.
func densify(net *network.Network) *network.Network {
	c := net.Clone()
	for i, l := range c.Layers {
		if sp, ok := l.(*network.SparseLinear); ok {
			c.Layers[i] = &network.Linear{LayerName: sp.LayerName, In: sp.In, Out: sp.Out, Weight: sp.Dense(), Bias: sp.Bias}
		}
	}
	return c
}

// TestExportSparseLinear: a SparseLinear is written as a dense Affine (or
// Linear) of its weights with zeros where it has no synapse, marked in its
// metadata, and Graph.Notes says so, one line per layer naming it; the
// file (with the hdf5 tag) reads back as the network with dense Linear
// layers, which simulates to the same spikes and readout.
func TestExportSparseLinear(t *testing.T) {
	for _, kind := range snnref.Kinds {
		for k, net := range graphNets(t, kind, 2) {
			sp := sparsify(net, rand.New(rand.NewPCG(uint64(k), 17)))
			g, err := FromNetwork(sp)
			if err != nil {
				t.Fatalf("%v/%d: %v", kind, k, err)
			}
			names := nodeNames(sp)
			var sparse []int
			for i, l := range sp.Layers {
				s, ok := l.(*network.SparseLinear)
				if !ok {
					continue
				}
				sparse = append(sparse, i)
				n := g.Nodes[names[i]]
				if n == nil || (n.Type != "Affine" && n.Type != "Linear") {
					t.Fatalf("%v/%d: layer %d is node %+v", kind, k, i, n)
				}
				if w := n.Params["weight"]; !slices.Equal(w.Shape, []int{s.Out, s.In}) || !slices.Equal(w.F32, s.Dense()) {
					t.Fatalf("%v/%d: layer %d: weight %v, not the dense matrix", kind, k, i, w.Shape)
				}
				if kind, _ := n.Metadata[MetaLayer].Text(); kind != "sparselinear" {
					t.Errorf("layer %d: metadata %s = %q", i, MetaLayer, kind)
				}
				if syn := n.Metadata[MetaSynapses]; syn.Len() != 1 || syn.I64[0] != int64(len(s.Weights)) {
					t.Errorf("layer %d: metadata %s = %v, want %d", i, MetaSynapses, syn.I64, len(s.Weights))
				}
			}
			if len(sparse) == 0 || len(g.Notes) != len(sparse) {
				t.Fatalf("%v/%d: %d notes for %d sparse layers", kind, k, len(g.Notes), len(sparse))
			}
			for j, i := range sparse {
				note := g.Notes[j]
				if !strings.Contains(note, sp.Layers[i].Name()) || !strings.Contains(note, "dense") || strings.Contains(note, "\n") {
					t.Errorf("note %q does not name layer %d (%q) in one line", note, i, sp.Layers[i].Name())
				}
			}
			back, err := ToNetwork(throughFile(t, g))
			if err != nil {
				t.Fatalf("%v/%d: %v", kind, k, err)
			}
			sameNetwork(t, densify(sp), back)
			images := snnref.RandomImages(rand.New(rand.NewPCG(uint64(k), 3)), sp, 3)
			a, b := simulate(t, sp, images), simulate(t, back, images)
			if !slices.Equal(a.Predictions, b.Predictions) || !slices.Equal(a.Outputs, b.Outputs) {
				t.Fatalf("%v/%d: the imported network computes other numbers", kind, k)
			}
			for l := range a.Layers {
				if a.Layers[l].Spikes != b.Layers[l].Spikes || a.Layers[l].SOPs > b.Layers[l].SOPs {
					t.Fatalf("%v/%d: layer %d: sparse %+v, imported %+v", kind, k, l, a.Layers[l], b.Layers[l])
				}
			}
		}
	}
}

// TestExportSparseTooLarge: a sparse layer whose dense matrix would exceed
// what a NIR dataset may hold is refused, naming it.
func TestExportSparseTooLarge(t *testing.T) {
	const n = 1 << 15
	big := &network.SparseLinear{LayerName: "huge", In: n, Out: n, Ptr: make([]int32, n+1), Bias: make([]float32, n)}
	net := &network.Network{Input: network.Shape{n}, Layers: []network.Layer{
		big,
		&network.Spiking{LayerName: "s", Threshold: []float32{1}, Alpha: 1, Reset: network.ResetSoft},
		&network.Linear{LayerName: "out", In: n, Out: 2, Weight: make([]float32, 2*n), Bias: make([]float32, 2)},
	}}
	_, err := FromNetwork(net)
	if err == nil || !strings.Contains(err.Error(), `layer 0 (sparselinear "huge")`) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("error %v, want one line naming the layer", err)
	}
}
