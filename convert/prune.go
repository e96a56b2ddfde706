package convert

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/evsnn/evsnn/network"
)

// PruneReport says what Prune did, layer by layer.
type PruneReport struct {
	// Sparsity is the fraction of each pruned layer's weights that are
	// zero (no synapse) afterwards, at least.
	Sparsity float64 `json:"sparsity"`
	// Layers lists the pruned layers in network order.
	Layers []PrunedLayer `json:"layers"`
}

// PrunedLayer is one layer Prune pruned.
type PrunedLayer struct {
	Layer int    `json:"layer"` // index in Network.Layers
	Name  string `json:"name"`
	// Weights is the size of the dense matrix, Out·In.
	Weights int `json:"weights"`
	// Before and After are its synapses: nonzero weights before (the
	// stored synapses of a SparseLinear), stored synapses after.
	Before int `json:"before"`
	After  int `json:"after"`
	// Cut is the largest |w| removed (0 if nothing was): every synapse
	// kept has |w| ≥ Cut.
	Cut float32 `json:"cut"`
}

// Synapses returns the synapses of the pruned layers before and after.
func (r *PruneReport) Synapses() (before, after int) {
	for _, l := range r.Layers {
		before += l.Before
		after += l.After
	}
	return before, after
}

// String is the report as a table, one line per layer and a total.
func (r *PruneReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "magnitude pruning to sparsity %g\n", r.Sparsity)
	fmt.Fprintf(&b, "%-12s %10s %10s %10s %8s %12s\n", "layer", "weights", "before", "after", "kept", "cut |w|")
	for _, l := range r.Layers {
		fmt.Fprintf(&b, "%-12s %10d %10d %10d %7.2f%% %12.4g\n", l.Name, l.Weights, l.Before, l.After, 100*float64(l.After)/float64(l.Weights), l.Cut)
	}
	before, after := r.Synapses()
	fmt.Fprintf(&b, "%-12s %10s %10d %10d\n", "total", "", before, after)
	return b.String()
}

// Prune returns a copy of the ANN in which each selected Linear layer
// keeps only the largest weights by magnitude: of its n = Out·In weights
// the k = ⌊sparsity·n⌉ smallest |w| are removed (ties broken by position,
// the earlier removed first; weights that are already zero count among
// them), and the layer becomes a network.SparseLinear holding the rest as
// its synapses. Biases are kept. which names the layers (Linear or
// SparseLinear; nil: every Linear and SparseLinear layer but the readout,
// whose few weights each decide a class: pruning the LeNet fixture's fc2
// as well at 0.9 costs 25 points for 0.02 % of the SOPs). A SparseLinear is pruned the same way, its missing weights
// counting as zeros; explicit zero synapses are removed. sparsity is in
// [0, 1). The ANN is not modified.
//
// This is one-shot, layer-wise magnitude pruning, without fine-tuning:
// convert the result (FromANN, recomputing the thresholds) and simulate
// it. Conv2d layers are not pruned: a convolution stays a dense kernel in
// evsnn (no sparse convolution exists), so zeroed kernel weights would
// cost the same SOPs and lose accuracy for nothing.
func Prune(ann *network.Network, sparsity float64, which []string) (*network.Network, *PruneReport, error) {
	if ann == nil {
		return nil, nil, fmt.Errorf("prune: nil network")
	}
	if math.IsNaN(sparsity) || sparsity < 0 || sparsity >= 1 {
		return nil, nil, fmt.Errorf("prune: sparsity %v: must be in [0, 1)", sparsity)
	}
	if err := ann.Validate(); err != nil {
		return nil, nil, fmt.Errorf("prune: %w", err)
	}
	layers, err := pruneTargets(ann, which)
	if err != nil {
		return nil, nil, fmt.Errorf("prune: %w", err)
	}
	out := ann.Clone()
	rep := &PruneReport{Sparsity: sparsity}
	for _, i := range layers {
		var lin *network.Linear
		before := 0
		switch l := out.Layers[i].(type) {
		case *network.Linear:
			lin = l
			for _, w := range l.Weight {
				if w != 0 {
					before++
				}
			}
		case *network.SparseLinear:
			lin = &network.Linear{LayerName: l.LayerName, In: l.In, Out: l.Out, Weight: l.Dense(), Bias: l.Bias}
			before = len(l.Weights)
		}
		cut := pruneSmallest(lin.Weight, sparsity)
		sp := network.Sparsify(lin)
		out.Layers[i] = sp
		rep.Layers = append(rep.Layers, PrunedLayer{Layer: i, Name: lin.LayerName, Weights: len(lin.Weight),
			Before: before, After: len(sp.Weights), Cut: cut})
	}
	if err := out.Validate(); err != nil {
		return nil, nil, fmt.Errorf("prune: result: %w", err)
	}
	return out, rep, nil
}

// pruneTargets resolves which into the indices of the layers to prune, in
// network order.
func pruneTargets(ann *network.Network, which []string) ([]int, error) {
	isLinear := func(l network.Layer) bool {
		k := l.Kind()
		return k == network.KindLinear || k == network.KindSparseLinear
	}
	var idx []int
	if which == nil {
		last := len(ann.Layers) - 1
		for i, l := range ann.Layers[:last] {
			if isLinear(l) {
				idx = append(idx, i)
			}
		}
		if len(idx) == 0 {
			if isLinear(ann.Layers[last]) {
				return nil, fmt.Errorf("the network has no Linear layer to prune but its readout %q (name it to prune it)", ann.Layers[last].Name())
			}
			return nil, fmt.Errorf("the network has no Linear layer to prune")
		}
		return idx, nil
	}
	if len(which) == 0 {
		return nil, fmt.Errorf("no layer named to prune")
	}
	for _, name := range which {
		i := ann.Index(name)
		if i < 0 || name == "" {
			return nil, fmt.Errorf("the network has no layer named %q", name)
		}
		if l := ann.Layers[i]; !isLinear(l) {
			return nil, fmt.Errorf("layer %d (%s %q) is not a Linear layer (only Linear layers are pruned)", i, l.Kind(), l.Name())
		}
		if slices.Contains(idx, i) {
			return nil, fmt.Errorf("layer %q named twice", name)
		}
		idx = append(idx, i)
	}
	slices.Sort(idx)
	return idx, nil
}

// pruneSmallest zeroes the ⌊sparsity·n⌉ weights of smallest magnitude
// (ties: the earlier first) and returns the largest magnitude zeroed.
func pruneSmallest(w []float32, sparsity float64) float32 {
	k := int(math.Round(sparsity * float64(len(w))))
	if k == 0 {
		return 0
	}
	order := make([]int32, len(w))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		if c := cmp.Compare(abs32(w[a]), abs32(w[b])); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	var cut float32
	for _, i := range order[:k] {
		cut = max(cut, abs32(w[i]))
		w[i] = 0
	}
	return cut
}

func abs32(v float32) float32 { return float32(math.Abs(float64(v))) }
