package network

import (
	"fmt"
	"slices"
)

// Network is a feed-forward network: a directed acyclic graph of layers
// (SPEC §1). A plain chain — each layer reading the one before it — is the
// common case and needs nothing but Input and Layers.
type Network struct {
	// Input is the per-sample input shape, e.g. [1,28,28].
	Input Shape
	// Layers are the nodes of the graph in topological order; the last is
	// the readout (a Linear, no ReLU).
	Layers []Layer
	// Inputs[i] lists the producers of layer i: indices of earlier layers,
	// or InputNode for the network input. Nil means a chain: layer 0 reads
	// the input and layer i reads layer i−1. Otherwise it has one entry per
	// layer; an Add has two or more inputs, every other layer one.
	Inputs [][]int
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
	// Layers are the choices the calibration made, one per spiking layer
	// in network order (absent from files written before they were
	// recorded).
	Layers []CalibrationLayer `json:"layers,omitempty"`
}

// CalibrationLayer is what calibration chose for one spiking layer.
type CalibrationLayer struct {
	Name string `json:"name"`
	// Threshold is the final θ: one, or one per channel.
	Threshold []float32 `json:"threshold"`
	// Steps are the steps tried on the layer, in the order they ran.
	Steps []CalibrationStep `json:"steps"`
	// ErrorBefore and ErrorAfter are the layer's conversion error
	// ||x − s̄||² (summed over its neurons, averaged over the calibration
	// images) of the plain conversion and of the calibrated layer.
	ErrorBefore float64 `json:"error_before"`
	ErrorAfter  float64 `json:"error_after"`
}

// CalibrationStep is one step tried on one layer: "search+shift", "wc",
// "bc", "pc", ..., whether it was kept or undone, the layer's error
// before and after it, and what it chose (e.g. the threshold, or the
// strength a correction was retried at).
type CalibrationStep struct {
	Step        string  `json:"step"`
	Kept        bool    `json:"kept"`
	ErrorBefore float64 `json:"error_before"`
	ErrorAfter  float64 `json:"error_after"`
	Detail      string  `json:"detail,omitempty"`
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
		cb.Layers = nil
		for _, l := range n.Meta.Calibration.Layers {
			l.Threshold = append([]float32(nil), l.Threshold...)
			l.Steps = append([]CalibrationStep(nil), l.Steps...)
			cb.Layers = append(cb.Layers, l)
		}
		c.Meta.Calibration = &cb
	}
	for _, l := range n.Layers {
		c.Layers = append(c.Layers, cloneLayer(l))
	}
	if n.Inputs != nil {
		c.Inputs = make([][]int, len(n.Inputs))
		for i, in := range n.Inputs {
			c.Inputs[i] = append([]int(nil), in...)
		}
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
	case *SparseLinear:
		c := *l
		c.Ptr, c.Targets = slices.Clone(l.Ptr), slices.Clone(l.Targets)
		c.Weights, c.Bias = cp(l.Weights), cp(l.Bias)
		return &c
	case *AvgPool2d:
		c := *l
		return &c
	case *MaxPool2d:
		c := *l
		return &c
	case *GlobalAvgPool:
		c := *l
		return &c
	case *Add:
		c := *l
		c.Bias = cp(l.Bias)
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
