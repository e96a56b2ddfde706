package analysis

import (
	"fmt"
	"io"

	"github.com/evsnn/evsnn/format/scipy"
	"github.com/evsnn/evsnn/network"
)

// CSRImport says what ImportCSR did.
type CSRImport struct {
	Layer string `json:"layer"`
	Index int    `json:"index"` // in Network.Layers
	// Kind is what the layer was (linear or sparselinear); it is a
	// sparselinear afterwards.
	Kind     network.Kind `json:"kind"`
	Out      int          `json:"out"`
	In       int          `json:"in"`
	Before   int          `json:"synapses_before"` // nonzero weights (stored synapses of a sparselinear)
	After    int          `json:"synapses_after"`  // entries of the matrix, explicit zeros included
	Density  float64      `json:"density"`         // After / (Out·In)
	FromFile string       `json:"csr"`
	// SNN is set when the model was an SNN: its thresholds were balanced
	// for the old weights.
	SNN bool `json:"snn"`
}

// ImportCSR returns a copy of net whose layer named layer (a Linear or
// SparseLinear) is a SparseLinear with the weights of the SciPy CSR
// matrix at path (scipy.sparse.save_npz, W [out, in] as PyTorch lays it
// out; format/scipy), keeping the layer's name and bias. A malformed file
// or a matrix of another shape than the layer's is bad input, named in
// one line.
func ImportCSR(net *network.Network, layer, path string) (*network.Network, *CSRImport, error) {
	i := net.Index(layer)
	if i < 0 || layer == "" {
		return nil, nil, BadInput(fmt.Errorf("--layer %q: the model has no such layer (its Linear layers: %s)", layer, linearNames(net)))
	}
	rep := &CSRImport{Layer: layer, Index: i, Kind: net.Layers[i].Kind(), FromFile: path, SNN: net.IsSNN()}
	switch l := net.Layers[i].(type) {
	case *network.Linear:
		rep.Out, rep.In = l.Out, l.In
		for _, w := range l.Weight {
			if w != 0 {
				rep.Before++
			}
		}
	case *network.SparseLinear:
		rep.Out, rep.In, rep.Before = l.Out, l.In, len(l.Weights)
	default:
		return nil, nil, BadInput(fmt.Errorf("--layer %q: layer %d is a %s, not a Linear layer (its Linear layers: %s)", layer, i, l.Kind(), linearNames(net)))
	}
	out, err := scipy.ReadInto(net, layer, path)
	if err != nil {
		return nil, nil, BadInput(err)
	}
	rep.After = len(out.Layers[i].(*network.SparseLinear).Weights)
	rep.Density = float64(rep.After) / (float64(rep.Out) * float64(rep.In))
	return out, rep, nil
}

// linearNames lists the Linear and SparseLinear layers of net.
func linearNames(net *network.Network) string {
	s := ""
	for _, l := range net.Layers {
		if k := l.Kind(); k == network.KindLinear || k == network.KindSparseLinear {
			if s != "" {
				s += ", "
			}
			s += l.Name()
		}
	}
	if s == "" {
		return "none"
	}
	return s
}

// WriteText states the import in two lines.
func (r *CSRImport) WriteText(w io.Writer) error {
	_, err := fmt.Fprintf(w, "%s (layer %d, %s [%d, %d]): %d synapses → %d from %s (density %.4f)\n",
		r.Layer, r.Index, r.Kind, r.Out, r.In, r.Before, r.After, r.FromFile, r.Density)
	if err == nil && r.SNN {
		_, err = fmt.Fprintln(w, "note: the model is an SNN whose thresholds were balanced for the old weights: convert the ANN with the new weights, or calibrate")
	}
	return err
}
