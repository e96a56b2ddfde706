package convert

import (
	"fmt"
	"math"
	"strings"

	"github.com/evsnn/evsnn/network"
)

// Options say what kind of SNN Convert makes (SPEC §2, §3). The zero value
// is the default conversion: IF neurons, soft reset, v(0) = 0, no bias
// shift, thresholds from the per-layer maximum.
type Options struct {
	// Statistic names how the thresholds were (FromANN: are) computed,
	// in ParseStatistic's syntax: "max" (default), "p99.99",
	// "max-per-channel", ... Convert only records it.
	Statistic string
	// Images is the number of calibration images the thresholds come from
	// (FromANN fills it in). Convert only records it.
	Images int
	// Neuron is "if" (default) or "lif".
	Neuron string
	// Alpha is the LIF leak factor in (0,1): v = α·v + I. Leave it 0 (or
	// set 1) for IF neurons.
	Alpha float32
	// Reset is network.ResetSoft (default) or network.ResetHard.
	Reset network.Reset
	// V0Fraction sets v(0) = V0Fraction·θ; 0 (default) or 0.5, any value
	// in [0,1] is accepted.
	V0Fraction float32
	// V0, if not nil, gives an extra initial potential per neuron for each
	// spiking layer (one entry per ReLU layer, each nil or of the layer's
	// size), added to V0Fraction·θ.
	V0 [][]float32
	// BiasShift adds θ/(2T) once to the input current of each spiking
	// layer (Deng & Gu 2021): to the bias of the Conv2d or Linear feeding
	// it, or of the Add in a residual block; the result is then converted
	// for T.
	BiasShift bool
	// T is the number of steps the bias shift is made for; required with
	// BiasShift, otherwise it must be 0.
	T int
}

// normalize fills in defaults and checks the options that do not depend
// on the network.
func (o Options) normalize() (Options, error) {
	o.Neuron = strings.ToLower(strings.TrimSpace(o.Neuron))
	switch o.Neuron {
	case "", "if":
		o.Neuron = "if"
		if o.Alpha != 0 && o.Alpha != 1 {
			return o, fmt.Errorf("alpha %v is for LIF neurons: use neuron lif, or leave alpha unset for IF", o.Alpha)
		}
		o.Alpha = 1
	case "lif":
		if math.IsNaN(float64(o.Alpha)) || !(o.Alpha > 0 && o.Alpha < 1) {
			return o, fmt.Errorf("LIF leak alpha %v: must be in (0, 1) (alpha = 1 is IF)", o.Alpha)
		}
	default:
		return o, fmt.Errorf("neuron %q: want if or lif", o.Neuron)
	}
	switch o.Reset {
	case "":
		o.Reset = network.ResetSoft
	case network.ResetSoft, network.ResetHard:
	default:
		return o, fmt.Errorf("reset %q: want soft or hard", o.Reset)
	}
	if math.IsNaN(float64(o.V0Fraction)) || o.V0Fraction < 0 || o.V0Fraction > 1 {
		return o, fmt.Errorf("initial potential fraction %v: must be in [0, 1] (0 or 0.5 usually)", o.V0Fraction)
	}
	if o.BiasShift {
		if o.T < 1 || o.T > 1<<20 {
			return o, fmt.Errorf("bias shift needs the number of steps T ≥ 1, got T = %d", o.T)
		}
	} else if o.T != 0 {
		return o, fmt.Errorf("T = %d given without bias shift: nothing in this conversion depends on T", o.T)
	}
	if o.Images < 0 {
		return o, fmt.Errorf("%d calibration images", o.Images)
	}
	if o.Statistic == "" {
		o.Statistic = Max.String()
	}
	return o, nil
}

// Convert returns a converted copy of the ANN: each ReLU layer becomes a
// *network.Spiking layer with thresholds[k] (k counting ReLU layers in
// order; one value, or one per channel), the neuron model of opts, and,
// with opts.BiasShift, its input current raised by θ/(2T) (per channel with
// per-channel thresholds), in float32: in the bias of the Conv2d or Linear
// feeding it, or of the Add feeding it in a residual block. The ANN is
// not modified. Meta.Conversion records the options.
func Convert(ann *network.Network, thresholds [][]float32, opts Options) (*network.Network, error) {
	if ann == nil {
		return nil, fmt.Errorf("convert: nil network")
	}
	o, err := opts.normalize()
	if err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	if err := ann.Validate(); err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	shapes, err := ann.Shapes()
	if err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	relus, err := reluLayers(ann)
	if err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	if len(thresholds) != len(relus) {
		return nil, fmt.Errorf("convert: %d threshold sets for %d ReLU layers", len(thresholds), len(relus))
	}
	if o.V0 != nil && len(o.V0) != len(relus) {
		return nil, fmt.Errorf("convert: initial potentials for %d layers, the network has %d ReLU layers", len(o.V0), len(relus))
	}
	snn := ann.Clone()
	for k, li := range relus {
		sh := shapes[li]
		name := ann.Layers[li].Name()
		th := thresholds[k]
		if len(th) != 1 && len(th) != sh[0] {
			return nil, fmt.Errorf("convert: layer %d (%q, shape %v): %d thresholds, want 1 or %d (per channel)", li, name, sh, len(th), sh[0])
		}
		for c, v := range th {
			if !(v > 0) || math.IsInf(float64(v), 0) {
				return nil, fmt.Errorf("convert: layer %d (%q): threshold %d is %v, must be positive and finite", li, name, c, v)
			}
		}
		var v0 []float32
		if o.V0 != nil && o.V0[k] != nil {
			if len(o.V0[k]) != sh.Size() {
				return nil, fmt.Errorf("convert: layer %d (%q): %d initial potentials for %d neurons", li, name, len(o.V0[k]), sh.Size())
			}
			for i, v := range o.V0[k] {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					return nil, fmt.Errorf("convert: layer %d (%q): initial potential %d is %v", li, name, i, v)
				}
			}
			v0 = append([]float32(nil), o.V0[k]...)
		}
		snn.Layers[li] = &network.Spiking{
			LayerName:  name,
			Threshold:  append([]float32(nil), th...),
			Alpha:      o.Alpha,
			Reset:      o.Reset,
			V0Fraction: o.V0Fraction,
			V0:         v0,
		}
		if o.BiasShift {
			if err := shiftBias(snn, shapes, li, th, o.T); err != nil {
				return nil, fmt.Errorf("convert: %w", err)
			}
		}
	}
	cv := &network.Conversion{
		Statistic:  o.Statistic,
		Images:     o.Images,
		Neuron:     o.Neuron,
		Alpha:      o.Alpha,
		Reset:      o.Reset,
		V0Fraction: o.V0Fraction,
		BiasShift:  o.BiasShift,
	}
	if o.BiasShift {
		cv.BiasShiftT = o.T
	}
	cv.Description = describe(cv, o.V0 != nil)
	snn.Meta.Conversion = cv
	snn.Meta.Calibration = nil
	if err := snn.Validate(); err != nil {
		return nil, fmt.Errorf("convert: result: %w", err)
	}
	return snn, nil
}

// reluLayers returns the ReLU layers of an ANN (a valid network: every
// ReLU reads a Conv2d, a Linear or an Add, and the last layer is the
// readout), checking that there is at least one and that the network has
// no spiking layer yet.
func reluLayers(ann *network.Network) ([]int, error) {
	var relus []int
	for i, l := range ann.Layers {
		switch l.Kind() {
		case network.KindSpiking:
			return nil, fmt.Errorf("layer %d (%q) is already spiking: the network is an SNN", i, l.Name())
		case network.KindReLU:
			relus = append(relus, i)
		}
	}
	if len(relus) == 0 {
		return nil, fmt.Errorf("the network has no ReLU layer: nothing to convert")
	}
	return relus, nil
}

// shiftBias adds θ/(2T) once to the input current of spiking layer i
// (SPEC §2a, §3), in float32: b + float32(θ/(2T)), into the bias of the
// Conv2d, Linear or SparseLinear that feeds it or, after an Add, into the
// Add's bias (created if the Add has none).
func shiftBias(n *network.Network, shapes []network.Shape, i int, th []float32, T int) error {
	j := n.InputOf(i)
	var bias []float32
	switch l := n.Layers[j].(type) {
	case *network.Conv2d:
		bias = l.Bias
	case *network.Linear:
		bias = l.Bias
	case *network.SparseLinear:
		bias = l.Bias
	case *network.Add:
		if l.Bias == nil {
			l.Bias = make([]float32, shapes[j][0])
		}
		bias = l.Bias
	default:
		return fmt.Errorf("layer %d: fed by layer %d (%s %q), which has no bias to shift", i, j, l.Kind(), l.Name())
	}
	if len(th) != 1 && len(th) != len(bias) {
		return fmt.Errorf("layer %d: %d per-channel thresholds for the %d biases of layer %d", i, len(th), len(bias), j)
	}
	for c := range bias {
		t := th[0]
		if len(th) > 1 {
			t = th[c]
		}
		bias[c] += float32(float64(t) / (2 * float64(T)))
	}
	return nil
}

func describe(cv *network.Conversion, perNeuronV0 bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "threshold %s", cv.Statistic)
	if cv.Images > 0 {
		fmt.Fprintf(&b, " over %d images", cv.Images)
	}
	if cv.Neuron == "lif" {
		fmt.Fprintf(&b, ", LIF alpha %v", cv.Alpha)
	} else {
		b.WriteString(", IF")
	}
	fmt.Fprintf(&b, ", %s reset, v0 %v·θ", cv.Reset, cv.V0Fraction)
	if perNeuronV0 {
		b.WriteString(" + per-neuron v0")
	}
	if cv.BiasShift {
		fmt.Fprintf(&b, ", bias shift θ/(2T) for T=%d", cv.BiasShiftT)
	}
	return b.String()
}

// FromANN computes the thresholds on the first n calibration images of x
// with the statistic opts.Statistic (default "max") and converts the ANN
// with them: Thresholds followed by Convert.
func FromANN(ann *network.Network, x []float32, n int, opts Options) (*network.Network, error) {
	if ann == nil {
		return nil, fmt.Errorf("convert: nil network")
	}
	stat, err := ParseStatistic(opts.Statistic)
	if err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	// Check the options and the network before the (slow) forward pass.
	if _, err := opts.normalize(); err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	if err := ann.Validate(); err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	if _, err := reluLayers(ann); err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	th, err := Thresholds(ann, x, n, stat)
	if err != nil {
		return nil, fmt.Errorf("convert: thresholds: %w", err)
	}
	opts.Statistic = stat.String()
	opts.Images = n
	return Convert(ann, th, opts)
}
