package network

import (
	"fmt"
)

// Kind names a layer type. The strings are stable: the model file stores them.
type Kind string

// The layer kinds of SPEC §1, plus the spiking layer that replaces a ReLU.
const (
	KindConv2d    Kind = "conv2d"
	KindAvgPool2d Kind = "avgpool2d"
	KindLinear    Kind = "linear"
	KindReLU      Kind = "relu"
	KindFlatten   Kind = "flatten"
	KindSpiking   Kind = "spiking"
	// Graph nodes (SPEC §1, §2a).
	KindMaxPool2d     Kind = "maxpool2d"
	KindGlobalAvgPool Kind = "globalavgpool"
	KindAdd           Kind = "add"
)

// Layer is one node of a feed-forward network. A layer with one input
// computes its output from the output of the node before it (Network.Inputs
// says which); Add is the only layer with several inputs.
type Layer interface {
	// Kind is the layer type.
	Kind() Kind
	// Name is a human-readable name, unique within a network (e.g. "conv1").
	Name() string
	// OutShape is the per-sample output shape for a per-sample input shape
	// (for an Add: the shape of each input), or an error naming what does
	// not fit.
	OutShape(in Shape) (Shape, error)
	// NumParams is the number of trainable parameters.
	NumParams() int
	// MACs is the number of multiply-accumulates one sample costs.
	MACs(in Shape) int
}

// Conv2d is a 2-D cross-correlation as in PyTorch (dilation 1, groups 1).
type Conv2d struct {
	LayerName string
	InC, OutC int
	KH, KW    int
	StrideH   int
	StrideW   int
	PadH      int
	PadW      int
	Weight    []float32 // [OutC, InC, KH, KW]
	Bias      []float32 // [OutC]; never nil after validation
}

// Kind implements Layer.
func (c *Conv2d) Kind() Kind { return KindConv2d }

// Name implements Layer.
func (c *Conv2d) Name() string { return c.LayerName }

// OutShape implements Layer.
func (c *Conv2d) OutShape(in Shape) (Shape, error) {
	if len(in) != 3 {
		return nil, fmt.Errorf("conv2d %q: input shape %v is not [C,H,W]", c.LayerName, in)
	}
	if in[0] != c.InC {
		return nil, fmt.Errorf("conv2d %q: input has %d channels, weights expect %d", c.LayerName, in[0], c.InC)
	}
	if c.KH <= 0 || c.KW <= 0 || c.StrideH <= 0 || c.StrideW <= 0 || c.PadH < 0 || c.PadW < 0 || c.OutC <= 0 ||
		c.PadH > MaxElements/4 || c.PadW > MaxElements/4 {
		return nil, fmt.Errorf("conv2d %q: kernel %dx%d, stride %dx%d, padding %dx%d, %d outputs: not a valid convolution",
			c.LayerName, c.KH, c.KW, c.StrideH, c.StrideW, c.PadH, c.PadW, c.OutC)
	}
	oh := (in[1]+2*c.PadH-c.KH)/c.StrideH + 1
	ow := (in[2]+2*c.PadW-c.KW)/c.StrideW + 1
	if in[1]+2*c.PadH < c.KH || in[2]+2*c.PadW < c.KW || oh <= 0 || ow <= 0 {
		return nil, fmt.Errorf("conv2d %q: kernel %dx%d larger than padded input %v", c.LayerName, c.KH, c.KW, in)
	}
	out := Shape{c.OutC, oh, ow}
	return out, out.Valid()
}

// NumParams implements Layer.
func (c *Conv2d) NumParams() int { return len(c.Weight) + len(c.Bias) }

// MACs implements Layer.
func (c *Conv2d) MACs(in Shape) int {
	out, err := c.OutShape(in)
	if err != nil {
		return 0
	}
	return out.Size() * c.InC * c.KH * c.KW
}

// Linear is y = W x + b.
type Linear struct {
	LayerName string
	In, Out   int
	Weight    []float32 // [Out, In]
	Bias      []float32 // [Out]
}

// Kind implements Layer.
func (l *Linear) Kind() Kind { return KindLinear }

// Name implements Layer.
func (l *Linear) Name() string { return l.LayerName }

// OutShape implements Layer.
func (l *Linear) OutShape(in Shape) (Shape, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("linear %q: input shape %v is not a vector (missing flatten?)", l.LayerName, in)
	}
	if in[0] != l.In {
		return nil, fmt.Errorf("linear %q: input has %d features, weights expect %d", l.LayerName, in[0], l.In)
	}
	if l.Out <= 0 {
		return nil, fmt.Errorf("linear %q: %d outputs", l.LayerName, l.Out)
	}
	return Shape{l.Out}, nil
}

// NumParams implements Layer.
func (l *Linear) NumParams() int { return len(l.Weight) + len(l.Bias) }

// MACs implements Layer.
func (l *Linear) MACs(in Shape) int { return l.In * l.Out }

// ReLU is max(0, x).
type ReLU struct{ LayerName string }

// Kind implements Layer.
func (r *ReLU) Kind() Kind { return KindReLU }

// Name implements Layer.
func (r *ReLU) Name() string { return r.LayerName }

// OutShape implements Layer.
func (r *ReLU) OutShape(in Shape) (Shape, error) { return in.Clone(), nil }

// NumParams implements Layer.
func (r *ReLU) NumParams() int { return 0 }

// MACs implements Layer.
func (r *ReLU) MACs(in Shape) int { return 0 }

// Flatten turns [C,H,W] into [C·H·W] in C,H,W order, as PyTorch does.
type Flatten struct{ LayerName string }

// Kind implements Layer.
func (f *Flatten) Kind() Kind { return KindFlatten }

// Name implements Layer.
func (f *Flatten) Name() string { return f.LayerName }

// OutShape implements Layer.
func (f *Flatten) OutShape(in Shape) (Shape, error) { return Shape{in.Size()}, nil }

// NumParams implements Layer.
func (f *Flatten) NumParams() int { return 0 }

// MACs implements Layer.
func (f *Flatten) MACs(in Shape) int { return 0 }
