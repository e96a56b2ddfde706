package network

import "fmt"

// InputNode stands for the network input wherever a layer index is
// expected (Network.Inputs, Projection.Source).
const InputNode = -1

// InputsOf returns the producers of layer i (see Network.Inputs). The
// slice must not be modified.
func (n *Network) InputsOf(i int) []int {
	if n.Inputs != nil {
		return n.Inputs[i]
	}
	return chainInputs(i)
}

var chainInput = []int{InputNode}

func chainInputs(i int) []int {
	if i == 0 {
		return chainInput
	}
	return []int{i - 1}
}

// InputOf returns the single producer of layer i (for layers that are not
// an Add).
func (n *Network) InputOf(i int) int { return n.InputsOf(i)[0] }

// IsChain reports whether every layer reads the one before it.
func (n *Network) IsChain() bool {
	if n.Inputs == nil {
		return true
	}
	for i, in := range n.Inputs {
		if len(in) != 1 || in[0] != i-1 {
			return false
		}
	}
	return true
}

// Consumers returns, for every layer, the layers that read its output, in
// increasing order; Consumers()[len(Layers)] lists the readers of the
// network input.
func (n *Network) Consumers() [][]int {
	cons := make([][]int, len(n.Layers)+1)
	for i := range n.Layers {
		for _, j := range n.InputsOf(i) {
			k := j
			if j == InputNode {
				k = len(n.Layers)
			}
			if k >= 0 && k <= len(n.Layers) {
				cons[k] = append(cons[k], i)
			}
		}
	}
	return cons
}

// Index returns the index of the layer called name, or -1.
func (n *Network) Index(name string) int {
	for i, l := range n.Layers {
		if l.Name() == name {
			return i
		}
	}
	return -1
}

// ShapeOf returns the output shape of node j (InputNode: the input) given
// the shapes Shapes returned.
func (n *Network) ShapeOf(shapes []Shape, j int) Shape {
	if j == InputNode {
		return n.Input
	}
	return shapes[j]
}

// SetInputs makes the graph explicit: after it, Inputs has one entry per
// layer (a chain becomes a graph that happens to be a chain). Code that
// inserts or removes layers calls it first.
func (n *Network) SetInputs() {
	if n.Inputs != nil {
		return
	}
	n.Inputs = make([][]int, len(n.Layers))
	for i := range n.Layers {
		n.Inputs[i] = chainInputs(i)
	}
}

// Compact turns an explicit graph that is a chain back into the chain form
// (Inputs = nil), which model files store more simply.
func (n *Network) Compact() {
	if n.Inputs != nil && n.IsChain() {
		n.Inputs = nil
	}
}

// nodeName names layer i in errors: "layer 3 (conv2d \"conv1\")".
func (n *Network) nodeName(i int) string {
	if i == InputNode {
		return "the input"
	}
	l := n.Layers[i]
	return fmt.Sprintf("layer %d (%s %q)", i, l.Kind(), l.Name())
}
