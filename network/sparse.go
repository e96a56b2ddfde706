package network

import (
	"fmt"
	"math"
	"slices"
)

// SparseLinear is y = W x + b with a sparse W stored as per-source fan-out
// lists (CSR by input, i.e. W's columns): the synapses of input j are
// Targets[Ptr[j]:Ptr[j+1]] with Weights[Ptr[j]:Ptr[j+1]], targets
// increasing. It is what a pruned Linear becomes, and what connectivity
// that is not a dense matrix is. The event engine delivers a spike along
// its list; the dense engine multiplies the sparse matrix. Its MACs and
// SOPs count only the synapses that exist.
type SparseLinear struct {
	LayerName string
	In, Out   int
	Ptr       []int32   // In+1 offsets into Targets and Weights
	Targets   []int32   // output index of each synapse
	Weights   []float32 // weight of each synapse
	Bias      []float32 // [Out]
}

// KindSparseLinear is the kind of a SparseLinear layer.
const KindSparseLinear Kind = "sparselinear"

// Kind implements Layer.
func (l *SparseLinear) Kind() Kind { return KindSparseLinear }

// Name implements Layer.
func (l *SparseLinear) Name() string { return l.LayerName }

// OutShape implements Layer.
func (l *SparseLinear) OutShape(in Shape) (Shape, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("sparselinear %q: input shape %v is not a vector (missing flatten?)", l.LayerName, in)
	}
	if in[0] != l.In {
		return nil, fmt.Errorf("sparselinear %q: input has %d features, weights expect %d", l.LayerName, in[0], l.In)
	}
	if l.Out <= 0 {
		return nil, fmt.Errorf("sparselinear %q: %d outputs", l.LayerName, l.Out)
	}
	return Shape{l.Out}, nil
}

// NumParams implements Layer: the synapses that exist and the bias.
func (l *SparseLinear) NumParams() int { return len(l.Weights) + len(l.Bias) }

// MACs implements Layer: one per synapse.
func (l *SparseLinear) MACs(in Shape) int { return len(l.Weights) }

// Synapses returns the targets and weights of input j.
func (l *SparseLinear) Synapses(j int) ([]int32, []float32) {
	a, b := l.Ptr[j], l.Ptr[j+1]
	return l.Targets[a:b], l.Weights[a:b]
}

// Forward computes dst = W src + b for a batch: the bias, then every
// synapse in increasing input order.
func (l *SparseLinear) Forward(dst, src []float32, batch int) {
	for b := 0; b < batch; b++ {
		y := dst[b*l.Out : (b+1)*l.Out]
		copy(y, l.Bias)
		x := src[b*l.In : (b+1)*l.In]
		for j, v := range x {
			if v == 0 {
				continue
			}
			tg, w := l.Synapses(j)
			for s, o := range tg {
				y[o] += float32(w[s] * v)
			}
		}
	}
}

// Dense returns W as a dense [Out, In] matrix (row-major, as Linear).
func (l *SparseLinear) Dense() []float32 {
	w := make([]float32, l.Out*l.In)
	for j := 0; j < l.In; j++ {
		tg, ws := l.Synapses(j)
		for s, o := range tg {
			w[int(o)*l.In+j] = ws[s]
		}
	}
	return w
}

// Sparsify returns the SparseLinear holding the nonzero weights of l.
func Sparsify(l *Linear) *SparseLinear {
	s := &SparseLinear{LayerName: l.LayerName, In: l.In, Out: l.Out, Ptr: make([]int32, l.In+1), Bias: slices.Clone(l.Bias)}
	for j := 0; j < l.In; j++ {
		for o := 0; o < l.Out; o++ {
			if w := l.Weight[o*l.In+j]; w != 0 {
				s.Targets = append(s.Targets, int32(o))
				s.Weights = append(s.Weights, w)
			}
		}
		s.Ptr[j+1] = int32(len(s.Targets))
	}
	return s
}

// check validates the lists: sizes, offsets, targets in range and
// increasing per input, finite values.
func (l *SparseLinear) check() error {
	// In and Out each bound a tensor; their product is not a tensor here
	// (only the synapses that exist are stored), so it is not bounded.
	if err := (Shape{l.In}).Valid(); err != nil {
		return fmt.Errorf("inputs: %w", err)
	}
	if err := (Shape{l.Out}).Valid(); err != nil {
		return fmt.Errorf("outputs: %w", err)
	}
	if len(l.Ptr) != l.In+1 || l.Ptr[0] != 0 {
		return fmt.Errorf("%d offsets for %d inputs, want %d starting at 0", len(l.Ptr), l.In, l.In+1)
	}
	if len(l.Targets) != len(l.Weights) || int(l.Ptr[l.In]) != len(l.Targets) {
		return fmt.Errorf("%d targets, %d weights, offsets end at %d: they must agree", len(l.Targets), len(l.Weights), l.Ptr[l.In])
	}
	if len(l.Bias) != l.Out {
		return fmt.Errorf("bias has %d values, want %d", len(l.Bias), l.Out)
	}
	for j := 0; j < l.In; j++ {
		a, b := l.Ptr[j], l.Ptr[j+1]
		if a > b {
			return fmt.Errorf("offsets of input %d decrease (%d > %d)", j, a, b)
		}
		if b > l.Ptr[l.In] {
			return fmt.Errorf("offset %d of input %d is past the last offset %d", b, j+1, l.Ptr[l.In])
		}
		prev := int32(-1)
		for _, o := range l.Targets[a:b] {
			if o <= prev || o >= int32(l.Out) {
				return fmt.Errorf("input %d: target %d is out of range [0,%d) or not increasing", j, o, l.Out)
			}
			prev = o
		}
	}
	for i, w := range l.Weights {
		if math.IsNaN(float64(w)) || math.IsInf(float64(w), 0) {
			return fmt.Errorf("weight[%d] is %v", i, w)
		}
	}
	return checkFinite(named{"bias", l.Bias})
}
