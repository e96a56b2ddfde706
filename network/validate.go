package network

import (
	"errors"
	"fmt"
	"math"
)

// Shapes returns the per-sample output shape of every layer, checking that
// each layer fits its inputs (and that the inputs of an Add agree). The
// error names the first layer that does not fit.
func (n *Network) Shapes() ([]Shape, error) {
	if err := n.Input.Valid(); err != nil {
		return nil, fmt.Errorf("input: %w", err)
	}
	if err := n.checkEdges(); err != nil {
		return nil, err
	}
	shapes := make([]Shape, len(n.Layers))
	for i, l := range n.Layers {
		ins := n.InputsOf(i)
		in := n.ShapeOf(shapes, ins[0])
		for _, j := range ins[1:] {
			if other := n.ShapeOf(shapes, j); !other.Equal(in) {
				return nil, fmt.Errorf("%s: adds %s of shape %v and %s of shape %v: the inputs of an Add must have one shape",
					n.nodeName(i), n.nodeName(ins[0]), in, n.nodeName(j), other)
			}
		}
		out, err := l.OutShape(in)
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
		if err := out.Valid(); err != nil {
			return nil, fmt.Errorf("%s: output %w", n.nodeName(i), err)
		}
		shapes[i] = out
	}
	return shapes, nil
}

// checkEdges checks that the graph is well formed: one entry of Inputs per
// layer, each input an earlier layer or the network input (so the order is
// topological and there is no cycle), one input per layer but two or more
// for an Add.
func (n *Network) checkEdges() error {
	if len(n.Layers) == 0 {
		return errors.New("network has no layers")
	}
	if n.Inputs != nil && len(n.Inputs) != len(n.Layers) {
		return fmt.Errorf("the graph lists the inputs of %d layers, the network has %d", len(n.Inputs), len(n.Layers))
	}
	for i, l := range n.Layers {
		if l == nil {
			return fmt.Errorf("layer %d is nil", i)
		}
		ins := n.InputsOf(i)
		switch {
		case len(ins) == 0:
			return fmt.Errorf("%s has no input", n.nodeName(i))
		case l.Kind() == KindAdd && len(ins) < 2:
			return fmt.Errorf("%s has %d input: an Add sums two or more", n.nodeName(i), len(ins))
		case l.Kind() != KindAdd && len(ins) != 1:
			return fmt.Errorf("%s has %d inputs: only an Add takes more than one", n.nodeName(i), len(ins))
		}
		for _, j := range ins {
			if j < InputNode || j >= i {
				return fmt.Errorf("%s reads layer %d, which does not come before it: the layers must be in topological order (no cycles, no dangling references)", n.nodeName(i), j)
			}
		}
	}
	return nil
}

// Validate checks the graph, shapes, parameter sizes, that every parameter
// is finite, and the placement rules of SPEC §1 that make a network
// convertible. It is what loaders call before handing a network out; its
// errors name the layer.
func (n *Network) Validate() error {
	if err := n.checkEdges(); err != nil {
		return err
	}
	seen := map[string]int{}
	for i, l := range n.Layers {
		if j, dup := seen[l.Name()]; dup && l.Name() != "" {
			return fmt.Errorf("layer %d: name %q already used by layer %d", i, l.Name(), j)
		}
		seen[l.Name()] = i
		if err := checkParams(l); err != nil {
			return fmt.Errorf("%s: %w", n.nodeName(i), err)
		}
	}
	if _, err := n.Shapes(); err != nil {
		return err
	}
	return n.checkPlacement()
}

// Role groups layer kinds by what they are in the SNN.
type Role int

// The roles of SPEC §1 and §2a.
const (
	// RoleWeighted: Conv2d, Linear, SparseLinear (a projection's synapses).
	RoleWeighted Role = iota
	// RoleNeuron: ReLU, or the Spiking layer that replaces it.
	RoleNeuron
	// RoleLinear: AvgPool2d, GlobalAvgPool, Flatten (weight-free, linear:
	// folded into the fan-out).
	RoleLinear
	// RoleMaxPool: MaxPool2d (count-gated in the SNN).
	RoleMaxPool
	// RoleAdd: Add (the residual join).
	RoleAdd
	// RoleOther: anything else.
	RoleOther
)

// RoleOf returns the role of a layer.
func RoleOf(l Layer) Role {
	switch l.Kind() {
	case KindConv2d, KindLinear, KindSparseLinear:
		return RoleWeighted
	case KindReLU, KindSpiking:
		return RoleNeuron
	case KindAvgPool2d, KindGlobalAvgPool, KindFlatten:
		return RoleLinear
	case KindMaxPool2d:
		return RoleMaxPool
	case KindAdd:
		return RoleAdd
	}
	return RoleOther
}

// checkPlacement enforces SPEC §1: a MaxPool reads the input or a ReLU; a
// ReLU reads a Conv2d, a Linear or an Add; an Add feeds one ReLU and each
// of its inputs is a linear path; a weighted layer reads the input, a
// ReLU, a MaxPool or a weight-free linear layer and feeds one ReLU or Add;
// every layer but the last is read by some layer; the last is a Linear or
// Conv2d, the readout.
func (n *Network) checkPlacement() error {
	cons := n.Consumers()
	if len(cons[len(n.Layers)]) == 0 {
		return errors.New("no layer reads the network input")
	}
	last := len(n.Layers) - 1
	roleOf := func(j int) Role {
		if j == InputNode {
			return RoleNeuron // the input is a source, as a spiking layer is
		}
		return RoleOf(n.Layers[j])
	}
	for i, l := range n.Layers {
		in := n.InputsOf(i)
		src := roleOf(in[0])
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%s: %s", n.nodeName(i), fmt.Sprintf(format, args...))
		}
		if i != last && len(cons[i]) == 0 {
			return bad("its output is not used by any layer (a dangling node)")
		}
		switch RoleOf(l) {
		case RoleOther:
			return bad("unsupported layer type %T", l)
		case RoleMaxPool:
			if src != RoleNeuron {
				return bad("reads %s: a MaxPool must read the input or a ReLU (Conv → MaxPool → ReLU is imported as Conv → ReLU → MaxPool)", n.nodeName(in[0]))
			}
		case RoleNeuron:
			if in[0] == InputNode || (src != RoleWeighted && src != RoleAdd) {
				return bad("reads %s: a ReLU must follow a Conv2d, a Linear or an Add", n.nodeName(in[0]))
			}
			if i == last {
				return bad("is the last layer: the network needs a Linear readout after its last ReLU")
			}
		case RoleAdd:
			if len(cons[i]) != 1 || RoleOf(n.Layers[cons[i][0]]) != RoleNeuron {
				return bad("an Add must be followed by a ReLU, and only by it (post-activation residual blocks)")
			}
			for _, j := range in {
				if r := roleOf(j); r == RoleAdd || r == RoleOther {
					return bad("adds %s: each input of an Add is a linear path (Conv, pools, identity)", n.nodeName(j))
				}
			}
		case RoleWeighted:
			if src == RoleWeighted || src == RoleAdd {
				return bad("reads %s directly: put a ReLU between two weighted layers (or fold them)", n.nodeName(in[0]))
			}
			for _, c := range cons[i] {
				switch RoleOf(n.Layers[c]) {
				case RoleNeuron, RoleAdd:
				case RoleMaxPool:
					return bad("feeds %s: a MaxPool must read the input or a ReLU (Conv → MaxPool → ReLU is imported as Conv → ReLU → MaxPool)", n.nodeName(c))
				case RoleWeighted:
					return bad("feeds %s directly: put a ReLU between two weighted layers (or fold them)", n.nodeName(c))
				default:
					return bad("feeds %s: a Conv2d or Linear must feed a ReLU or an Add (pools go after the ReLU)", n.nodeName(c))
				}
			}
			if len(cons[i]) > 1 {
				return bad("feeds %d layers: a Conv2d or Linear feeds one ReLU or Add", len(cons[i]))
			}
		case RoleLinear:
			if src == RoleWeighted || src == RoleAdd {
				return bad("reads %s: pools and Flatten go after the ReLU, not between a weighted layer and its ReLU", n.nodeName(in[0]))
			}
		}
	}
	if RoleOf(n.Layers[last]) != RoleWeighted {
		return fmt.Errorf("%s is the last layer: the readout must be a Linear (or Conv2d) with no ReLU", n.nodeName(last))
	}
	return nil
}

func checkParams(l Layer) error {
	switch l := l.(type) {
	case *Conv2d:
		if err := (Shape{l.OutC, l.InC, l.KH, l.KW}).Valid(); err != nil {
			return fmt.Errorf("weight: %w", err)
		}
		if l.StrideH <= 0 || l.StrideW <= 0 || l.PadH < 0 || l.PadW < 0 || l.PadH > MaxElements/4 || l.PadW > MaxElements/4 {
			return fmt.Errorf("stride %dx%d, padding %dx%d: not a valid convolution", l.StrideH, l.StrideW, l.PadH, l.PadW)
		}
		if want := l.OutC * l.InC * l.KH * l.KW; len(l.Weight) != want {
			return fmt.Errorf("weight has %d values, want %d×%d×%d×%d", len(l.Weight), l.OutC, l.InC, l.KH, l.KW)
		}
		if len(l.Bias) != l.OutC {
			return fmt.Errorf("bias has %d values, want %d", len(l.Bias), l.OutC)
		}
		return checkFinite(named{"weight", l.Weight}, named{"bias", l.Bias})
	case *Linear:
		if err := (Shape{l.Out, l.In}).Valid(); err != nil {
			return fmt.Errorf("weight: %w", err)
		}
		if want := l.In * l.Out; len(l.Weight) != want {
			return fmt.Errorf("weight has %d values, want %d×%d", len(l.Weight), l.Out, l.In)
		}
		if len(l.Bias) != l.Out {
			return fmt.Errorf("bias has %d values, want %d", len(l.Bias), l.Out)
		}
		return checkFinite(named{"weight", l.Weight}, named{"bias", l.Bias})
	case *SparseLinear:
		return l.check()
	case *AvgPool2d:
		if !l.window().valid() {
			return fmt.Errorf("kernel %dx%d stride %dx%d padding %dx%d is not valid", l.KH, l.KW, l.StrideH, l.StrideW, l.PadH, l.PadW)
		}
	case *MaxPool2d:
		if !l.Window().valid() {
			return fmt.Errorf("kernel %dx%d stride %dx%d padding %dx%d is not valid", l.KH, l.KW, l.StrideH, l.StrideW, l.PadH, l.PadW)
		}
	case *Add:
		return checkFinite(named{"bias", l.Bias})
	case *Spiking:
		return checkFinite(named{"threshold", l.Threshold}, named{"v0", l.V0}, named{"alpha", []float32{l.Alpha}}, named{"v0_fraction", []float32{l.V0Fraction}})
	}
	return nil
}

// named is a parameter array and its name, for error messages.
type named struct {
	name   string
	values []float32
}

func checkFinite(params ...named) error {
	for _, p := range params {
		for i, v := range p.values {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("%s[%d] is %v", p.name, i, v)
			}
		}
	}
	return nil
}
