package network

import (
	"fmt"
	"math"
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
)

// Layer is one stage of a feed-forward network.
type Layer interface {
	// Kind is the layer type.
	Kind() Kind
	// Name is a human-readable name, unique within a network (e.g. "conv1").
	Name() string
	// OutShape is the per-sample output shape for a per-sample input shape,
	// or an error naming what does not fit.
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

// AvgPool2d averages non-overlapping or overlapping windows, no padding,
// floor mode. It is linear, so it stays as it is in the SNN.
type AvgPool2d struct {
	LayerName string
	KH, KW    int
	StrideH   int
	StrideW   int
}

// Kind implements Layer.
func (p *AvgPool2d) Kind() Kind { return KindAvgPool2d }

// Name implements Layer.
func (p *AvgPool2d) Name() string { return p.LayerName }

// OutShape implements Layer.
func (p *AvgPool2d) OutShape(in Shape) (Shape, error) {
	if len(in) != 3 {
		return nil, fmt.Errorf("avgpool2d %q: input shape %v is not [C,H,W]", p.LayerName, in)
	}
	if p.KH <= 0 || p.KW <= 0 || p.StrideH <= 0 || p.StrideW <= 0 {
		return nil, fmt.Errorf("avgpool2d %q: kernel %dx%d stride %dx%d is not valid", p.LayerName, p.KH, p.KW, p.StrideH, p.StrideW)
	}
	if in[1] < p.KH || in[2] < p.KW {
		return nil, fmt.Errorf("avgpool2d %q: kernel %dx%d larger than input %v", p.LayerName, p.KH, p.KW, in)
	}
	return Shape{in[0], (in[1]-p.KH)/p.StrideH + 1, (in[2]-p.KW)/p.StrideW + 1}, nil
}

// NumParams implements Layer.
func (p *AvgPool2d) NumParams() int { return 0 }

// MACs implements Layer: one accumulate per window element.
func (p *AvgPool2d) MACs(in Shape) int {
	out, err := p.OutShape(in)
	if err != nil {
		return 0
	}
	return out.Size() * p.KH * p.KW
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

// Reset is what happens to the membrane potential after a spike.
type Reset string

// The reset rules of SPEC §2.
const (
	ResetSoft Reset = "soft" // v -= θ (reset by subtraction)
	ResetHard Reset = "hard" // v = 0
)

// Spiking is a layer of IF (Alpha = 1) or LIF (0 < Alpha < 1) neurons that
// replaces a ReLU in a converted network (SPEC §2). In an ANN forward pass it
// behaves as the ReLU it replaced.
type Spiking struct {
	LayerName string
	// Threshold θ: one value for the layer, or one per channel (the first
	// dimension of the layer's shape).
	Threshold []float32
	// Alpha is the leak factor: 1 for IF, 0 < Alpha < 1 for LIF.
	Alpha float32
	Reset Reset
	// V0Fraction sets the initial potential to V0Fraction·θ (0 or 0.5).
	V0Fraction float32
	// V0 is an additional per-neuron initial potential (potential
	// correction), nil for none; otherwise its length is the layer's size.
	V0 []float32
}

// Kind implements Layer.
func (s *Spiking) Kind() Kind { return KindSpiking }

// Name implements Layer.
func (s *Spiking) Name() string { return s.LayerName }

// OutShape implements Layer.
func (s *Spiking) OutShape(in Shape) (Shape, error) {
	if len(in) == 0 {
		return nil, fmt.Errorf("spiking %q: empty input shape", s.LayerName)
	}
	if len(s.Threshold) != 1 && len(s.Threshold) != in[0] {
		return nil, fmt.Errorf("spiking %q: %d thresholds for %d channels", s.LayerName, len(s.Threshold), in[0])
	}
	for i, th := range s.Threshold {
		if !(th > 0) || math.IsInf(float64(th), 0) {
			return nil, fmt.Errorf("spiking %q: threshold %d is %v, must be positive and finite", s.LayerName, i, th)
		}
	}
	if !(s.Alpha > 0 && s.Alpha <= 1) {
		return nil, fmt.Errorf("spiking %q: leak alpha %v is not in (0,1]", s.LayerName, s.Alpha)
	}
	if s.Reset != ResetSoft && s.Reset != ResetHard {
		return nil, fmt.Errorf("spiking %q: reset %q is neither soft nor hard", s.LayerName, s.Reset)
	}
	if s.V0 != nil && len(s.V0) != in.Size() {
		return nil, fmt.Errorf("spiking %q: %d initial potentials for %d neurons", s.LayerName, len(s.V0), in.Size())
	}
	return in.Clone(), nil
}

// NumParams implements Layer.
func (s *Spiking) NumParams() int { return 0 }

// MACs implements Layer.
func (s *Spiking) MACs(in Shape) int { return 0 }

// ThresholdAt is θ for neuron i of a layer of per-sample shape sh.
func (s *Spiking) ThresholdAt(sh Shape, i int) float32 {
	if len(s.Threshold) == 1 {
		return s.Threshold[0]
	}
	per := sh.Size() / sh[0]
	return s.Threshold[i/per]
}

// InitialPotential is v(0) for neuron i: V0Fraction·θ plus the per-neuron
// correction.
func (s *Spiking) InitialPotential(sh Shape, i int) float32 {
	v := s.V0Fraction * s.ThresholdAt(sh, i)
	if s.V0 != nil {
		v += s.V0[i]
	}
	return v
}
