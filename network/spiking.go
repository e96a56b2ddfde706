package network

import (
	"fmt"
	"math"
)

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
