package modelfile

import (
	"github.com/evsnn/evsnn/network"
)

// InputName is the name by which a layer's "inputs" refer to the network
// input. In a file that lists inputs, no layer may be called so.
const InputName = "input"

// inputNames returns, for a network that is not a chain, the names of the
// producers of every layer whose inputs differ from the chain default (the
// layer before it; for layer 0 the network input), nil for the others; or
// an error naming a layer whose name cannot be referred to. For a chain it
// returns nil: the file lists no inputs.
func inputNames(net *network.Network) ([][]string, error) {
	if net.IsChain() {
		return nil, nil
	}
	for i, l := range net.Layers {
		if l.Name() == InputName {
			return nil, errorf("%s: in a graph network the name %q is reserved for the network input; rename the layer",
				layerWhere(i, l), InputName)
		}
	}
	names := make([][]string, len(net.Layers))
	for i := range net.Layers {
		ins := net.InputsOf(i)
		if len(ins) == 1 && ins[0] == i-1 {
			continue // the chain default
		}
		names[i] = []string{}
		for _, j := range ins {
			if j == network.InputNode {
				names[i] = append(names[i], InputName)
				continue
			}
			p := net.Layers[j]
			if p.Name() == "" {
				return nil, errorf("layer %d (%s): it feeds %s, not the layer after it, so it needs a name",
					j, p.Kind(), layerWhere(i, net.Layers[i]))
			}
			names[i] = append(names[i], p.Name())
		}
	}
	return names, nil
}

// resolveInputs turns the inputs listed in a file (nil entries: the chain
// default, the layer before or the network input) into network.Inputs, or
// nil if the result is a chain. Every name must be that of an earlier
// layer, or InputName.
func resolveInputs(layers []network.Layer, listed [][]string) ([][]int, error) {
	explicit := false
	for _, in := range listed {
		explicit = explicit || in != nil
	}
	if !explicit {
		return nil, nil
	}
	index := map[string]int{}
	inputs := make([][]int, len(layers))
	for i, l := range layers {
		where := func() string { return layerWhere(i, l) }
		if l.Name() == InputName {
			return nil, invalid("%s: the name %q is reserved for the network input in a file that lists inputs", where(), InputName)
		}
		if listed[i] == nil {
			inputs[i] = []int{i - 1} // i = 0: network.InputNode
		} else {
			inputs[i] = make([]int, len(listed[i]))
			for k, name := range listed[i] {
				if name == InputName {
					inputs[i][k] = network.InputNode
					continue
				}
				j, ok := index[name]
				if !ok {
					return nil, invalid("%s: input %q is not the name of an earlier layer (nor %q, the network input)", where(), name, InputName)
				}
				inputs[i][k] = j
			}
		}
		if l.Name() != "" {
			index[l.Name()] = i // a duplicate name is refused by Validate
		}
	}
	return inputs, nil
}
