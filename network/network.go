package network

import (
	"fmt"
	"math"
)

// Network is a feed-forward network: an input shape and layers in order.
type Network struct {
	// Input is the per-sample input shape, e.g. [1,28,28].
	Input Shape
	// Layers run in order; the last is the readout (a Linear, no ReLU).
	Layers []Layer
	// Meta records where the network came from and how it was converted
	// and calibrated.
	Meta Metadata
}

// Metadata is the provenance a model file carries beside the weights.
type Metadata struct {
	// Source says where the ANN came from ("onnx:mnist_lenet.onnx",
	// "train --seed 1", ...).
	Source string `json:"source,omitempty"`
	// Conversion is set once the network has spiking layers.
	Conversion *Conversion `json:"conversion,omitempty"`
	// Calibration is set once the SNN has been calibrated.
	Calibration *Calibration `json:"calibration,omitempty"`
}

// Conversion records how an ANN became an SNN (SPEC §3).
type Conversion struct {
	Statistic   string  `json:"statistic"`   // "max", "p99.99", "max-per-channel", ...
	Images      int     `json:"images"`      // calibration images used for the statistic
	Neuron      string  `json:"neuron"`      // "if" or "lif"
	Alpha       float32 `json:"alpha"`       // leak factor
	Reset       Reset   `json:"reset"`       // soft or hard
	V0Fraction  float32 `json:"v0_fraction"` // v(0) = fraction·θ
	BiasShift   bool    `json:"bias_shift"`  // b += θ/(2T) applied
	BiasShiftT  int     `json:"bias_shift_T,omitempty"`
	Description string  `json:"description,omitempty"`
}

// Calibration records a layer-wise calibration (SPEC §4).
type Calibration struct {
	Method string `json:"method"` // e.g. "search,bc" or "light"
	T      int    `json:"T"`      // the T it was fitted for
	Images int    `json:"images"`
	Seed   uint64 `json:"seed"`
}

// FittedT is the number of steps the network was converted or calibrated
// for, or 0 if nothing in it depends on T.
func (n *Network) FittedT() int {
	if n.Meta.Calibration != nil {
		return n.Meta.Calibration.T
	}
	if n.Meta.Conversion != nil && n.Meta.Conversion.BiasShift {
		return n.Meta.Conversion.BiasShiftT
	}
	return 0
}

// IsSNN reports whether the network has spiking layers.
func (n *Network) IsSNN() bool {
	for _, l := range n.Layers {
		if l.Kind() == KindSpiking {
			return true
		}
	}
	return false
}

// Shapes returns the per-sample output shape of every layer, checking that
// each layer fits the one before it. The error names the first layer that
// does not fit.
func (n *Network) Shapes() ([]Shape, error) {
	if err := n.Input.Valid(); err != nil {
		return nil, fmt.Errorf("input: %w", err)
	}
	shapes := make([]Shape, len(n.Layers))
	in := n.Input
	for i, l := range n.Layers {
		out, err := l.OutShape(in)
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
		if err := out.Valid(); err != nil {
			return nil, fmt.Errorf("layer %d (%s %q): output %w", i, l.Kind(), l.Name(), err)
		}
		shapes[i] = out
		in = out
	}
	return shapes, nil
}

// Validate checks shapes, parameter sizes and that every parameter is
// finite. It is what loaders call before handing a network out.
func (n *Network) Validate() error {
	if len(n.Layers) == 0 {
		return fmt.Errorf("network has no layers")
	}
	seen := map[string]int{}
	for i, l := range n.Layers {
		if j, dup := seen[l.Name()]; dup && l.Name() != "" {
			return fmt.Errorf("layer %d: name %q already used by layer %d", i, l.Name(), j)
		}
		seen[l.Name()] = i
		if err := checkParams(l); err != nil {
			return fmt.Errorf("layer %d (%s %q): %w", i, l.Kind(), l.Name(), err)
		}
	}
	_, err := n.Shapes()
	return err
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
	case *AvgPool2d:
		if l.KH <= 0 || l.KW <= 0 || l.StrideH <= 0 || l.StrideW <= 0 || l.KH > MaxElements/l.KW {
			return fmt.Errorf("kernel %dx%d stride %dx%d is not valid", l.KH, l.KW, l.StrideH, l.StrideW)
		}
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

// SpikingLayers returns the indices of the spiking layers (or, in an ANN,
// of the ReLU layers that conversion turns into spiking layers).
func (n *Network) SpikingLayers() []int {
	var idx []int
	for i, l := range n.Layers {
		if k := l.Kind(); k == KindSpiking || k == KindReLU {
			idx = append(idx, i)
		}
	}
	return idx
}

// NumParams is the total parameter count.
func (n *Network) NumParams() int {
	total := 0
	for _, l := range n.Layers {
		total += l.NumParams()
	}
	return total
}

// Clone returns a deep copy: converting or calibrating a clone leaves the
// original untouched.
func (n *Network) Clone() *Network {
	c := &Network{Input: n.Input.Clone(), Meta: n.Meta}
	if n.Meta.Conversion != nil {
		cv := *n.Meta.Conversion
		c.Meta.Conversion = &cv
	}
	if n.Meta.Calibration != nil {
		cb := *n.Meta.Calibration
		c.Meta.Calibration = &cb
	}
	for _, l := range n.Layers {
		c.Layers = append(c.Layers, cloneLayer(l))
	}
	return c
}

func cloneLayer(l Layer) Layer {
	cp := func(s []float32) []float32 {
		if s == nil {
			return nil
		}
		return append([]float32(nil), s...)
	}
	switch l := l.(type) {
	case *Conv2d:
		c := *l
		c.Weight, c.Bias = cp(l.Weight), cp(l.Bias)
		return &c
	case *Linear:
		c := *l
		c.Weight, c.Bias = cp(l.Weight), cp(l.Bias)
		return &c
	case *AvgPool2d:
		c := *l
		return &c
	case *ReLU:
		c := *l
		return &c
	case *Flatten:
		c := *l
		return &c
	case *Spiking:
		c := *l
		c.Threshold, c.V0 = cp(l.Threshold), cp(l.V0)
		return &c
	}
	panic(fmt.Sprintf("network: cloneLayer: unknown layer type %T", l))
}
