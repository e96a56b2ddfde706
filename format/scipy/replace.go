package scipy

import (
	"fmt"
	"slices"

	"github.com/evsnn/evsnn/network"
)

// ReplaceWeights returns a copy of net in which the layer named layer (a
// Linear or SparseLinear) is a SparseLinear with the synapses of w (its
// weights W [out, in], from ReadCSR) and the layer's own name and bias.
// w's shape must be the layer's; net is not modified.
func ReplaceWeights(net *network.Network, layer string, w *network.SparseLinear) (*network.Network, error) {
	c, err := replace(net, layer, w)
	if err != nil {
		return nil, fmt.Errorf("scipy: replace weights: %w", err)
	}
	return c, nil
}

func replace(net *network.Network, layer string, w *network.SparseLinear) (*network.Network, error) {
	if net == nil || w == nil {
		return nil, fmt.Errorf("no network or no matrix")
	}
	i := net.Index(layer)
	if i < 0 || layer == "" {
		return nil, fmt.Errorf("the network has no layer named %q", layer)
	}
	var out, in int
	var bias []float32
	switch l := net.Layers[i].(type) {
	case *network.Linear:
		out, in, bias = l.Out, l.In, l.Bias
	case *network.SparseLinear:
		out, in, bias = l.Out, l.In, l.Bias
	default:
		return nil, fmt.Errorf("layer %d (%s %q) is not a Linear layer", i, l.Kind(), l.Name())
	}
	if w.Out != out || w.In != in {
		hint := ""
		if w.Out == in && w.In == out {
			hint = " (transposed? PyTorch's layout is [out, in])"
		}
		return nil, fmt.Errorf("layer %d (%s %q) has weights [%d, %d] (out, in), the matrix is [%d, %d]%s",
			i, net.Layers[i].Kind(), layer, out, in, w.Out, w.In, hint)
	}
	c := net.Clone()
	c.Layers[i] = &network.SparseLinear{LayerName: layer, In: in, Out: out,
		Ptr: slices.Clone(w.Ptr), Targets: slices.Clone(w.Targets), Weights: slices.Clone(w.Weights), Bias: slices.Clone(bias)}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// ReadInto is ReadCSR followed by ReplaceWeights: the network with the
// weights of layer read from the file at path.
func ReadInto(net *network.Network, layer, path string) (*network.Network, error) {
	w, err := ReadCSR(path)
	if err != nil {
		return nil, err
	}
	out, err := replace(net, layer, w)
	if err != nil {
		return nil, fmt.Errorf("scipy: %s as the weights of %q: %w", path, layer, err)
	}
	return out, nil
}
