package nir

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/evsnn/evsnn/network"
)

// ImportOptions tune ToNetworkWith.
type ImportOptions struct {
	// DT is the time step one evsnn step stands for. 0 means: the graph's
	// "dt" metadata if it has one, else 1.
	DT float64
}

// SupportedTypes are the NIR node types ToNetwork reads.
var SupportedTypes = []string{"Input", "Output", "Affine", "Linear", "Scale", "Conv2d", "SumPool2d", "AvgPool2d", "Flatten", "IF", "LIF"}

// gainTolerance is how far the input gain of a neuron (dt·r or dt·r/tau)
// may be from 1 and still count as exactly 1: a few float32 roundings of
// tau and r.
const gainTolerance = 5e-7

// ToNetwork converts a NIR graph into an evsnn network with the default
// options.
func ToNetwork(g *Graph) (*network.Network, error) {
	return ToNetworkWith(g, ImportOptions{})
}

// ToNetworkWith converts a NIR graph (a chain from one Input to one Output
// node) into an evsnn network, folding what evsnn has no layer for (Scale,
// SumPool2d's factor, the input gain and leak potential of the neurons,
// the unit amplitude of NIR spikes) into the neighbouring weights and
// biases. Every error names the node.
func ToNetworkWith(g *Graph, opt ImportOptions) (*network.Network, error) {
	chain, err := g.Chain()
	if err != nil {
		return nil, err
	}
	dt := opt.DT
	if dt == 0 {
		dt = 1
		if p, ok := g.Metadata[MetaDT]; ok {
			v, err := p.Floats()
			if err != nil || len(v) != 1 {
				return nil, fmt.Errorf("graph metadata %q: want one number", MetaDT)
			}
			dt = v[0]
		}
	}
	if !(dt > 0) || math.IsInf(dt, 0) {
		return nil, fmt.Errorf("time step dt = %v: must be positive and finite", dt)
	}
	im := &importer{g: g, dt: dt, lastW: -1}
	if err := im.input(chain[0]); err != nil {
		return nil, err
	}
	for _, name := range chain[1 : len(chain)-1] {
		if err := im.node(name); err != nil {
			return nil, err
		}
	}
	if err := im.output(chain[len(chain)-1]); err != nil {
		return nil, err
	}
	net := &network.Network{Input: im.input0, Layers: im.layers}
	if p, ok := g.Metadata[MetaNetwork]; ok {
		s, ok := p.Text()
		if !ok {
			return nil, fmt.Errorf("graph metadata %q: want a string", MetaNetwork)
		}
		if err := json.Unmarshal([]byte(s), &net.Meta); err != nil {
			return nil, fmt.Errorf("graph metadata %q: %w", MetaNetwork, err)
		}
	} else {
		net.Meta.Source = "nir"
	}
	if len(net.Layers) == 0 {
		return nil, fmt.Errorf("node %q: the graph has no layers between Input and Output", chain[len(chain)-1])
	}
	if err := net.Validate(); err != nil {
		return nil, fmt.Errorf("imported network: %w", err)
	}
	return net, nil
}

type importer struct {
	g      *Graph
	dt     float64
	input0 network.Shape
	layers []network.Layer
	cur    network.Shape // the shape flowing along the chain
	// lastW is the index of the last Conv2d or Linear layer when only
	// AvgPool2d and Flatten layers follow it, else -1.
	lastW int
	// pend is an elementwise scale over cur not yet folded into weights
	// (nil: none).
	pend []float64
	// amp, right after a neuron node, is its θ per neuron: an evsnn spike
	// carries θ, a NIR spike 1, so the next layer's input is to be scaled
	// by 1/θ unless a Scale of exactly θ follows (as evsnn writes it).
	amp         []float32
	afterNeuron bool
	// neuron is the last neuron node's name, for errors.
	neuron string
}

func (im *importer) errf(name, format string, args ...any) error {
	return fmt.Errorf("node %q (%s): %s", name, im.g.Nodes[name].Type, fmt.Sprintf(format, args...))
}

// param fetches a parameter; required ones must exist.
func (im *importer) param(name, key string, required bool) (Param, bool, error) {
	p, ok := im.g.Nodes[name].Params[key]
	if !ok && required {
		return Param{}, false, im.errf(name, "missing parameter %q", key)
	}
	return p, ok, nil
}

// floats fetches a numeric parameter as finite float64 values.
func (im *importer) floats(name, key string, required bool) ([]float64, Param, error) {
	p, ok, err := im.param(name, key, required)
	if err != nil || !ok {
		return nil, p, err
	}
	v, err := p.Floats()
	if err != nil {
		return nil, p, im.errf(name, "parameter %q %v", key, err)
	}
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, p, im.errf(name, "parameter %q: value %d is %v", key, i, x)
		}
	}
	return v, p, nil
}

// ints fetches an integer parameter.
func (im *importer) ints(name, key string, required bool) ([]int, bool, error) {
	p, ok, err := im.param(name, key, required)
	if err != nil || !ok {
		return nil, ok, err
	}
	v, err := p.Ints()
	if err != nil {
		return nil, true, im.errf(name, "parameter %q %v", key, err)
	}
	return v, true, nil
}

// pair reads a 2-D size parameter: a scalar or two values.
func (im *importer) pair(name, key string, required bool, def int) (int, int, error) {
	v, ok, err := im.ints(name, key, required)
	if err != nil {
		return 0, 0, err
	}
	switch {
	case !ok:
		return def, def, nil
	case len(v) == 1:
		return v[0], v[0], nil
	case len(v) == 2:
		return v[0], v[1], nil
	}
	return 0, 0, im.errf(name, "parameter %q has %d values, want 1 or 2", key, len(v))
}

// f32 fetches a float parameter of an exact shape as float32 (float32 data
// is taken bit for bit).
func (im *importer) f32(name, key string, shape []int) ([]float32, error) {
	v, p, err := im.floats(name, key, true)
	if err != nil {
		return nil, err
	}
	if !slices.Equal(p.Shape, shape) {
		return nil, im.errf(name, "parameter %q has shape %v, want %v", key, p.Shape, shape)
	}
	if p.DType == Float32 {
		return clone32(p.F32), nil
	}
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
		if math.IsInf(float64(out[i]), 0) {
			return nil, im.errf(name, "parameter %q: value %d (%v) overflows float32", key, i, x)
		}
	}
	return out, nil
}

// shapeParam reads a "shape" parameter, dropping a leading batch dimension
// of 1 from a 2-D or 4-D shape.
func (im *importer) shapeParam(name, key string, required bool) (network.Shape, bool, error) {
	v, ok, err := im.ints(name, key, required)
	if err != nil || !ok {
		return nil, ok, err
	}
	if (len(v) == 2 || len(v) == 4) && v[0] == 1 {
		v = v[1:]
	}
	sh := network.Shape(v)
	if err := sh.Valid(); err != nil {
		return nil, true, im.errf(name, "parameter %q: %v", key, err)
	}
	return sh, true, nil
}

func (im *importer) input(name string) error {
	sh, _, err := im.shapeParam(name, "shape", true)
	if err != nil {
		return err
	}
	if len(sh) != 1 && len(sh) != 3 {
		return im.errf(name, "input shape %v: evsnn takes [C,H,W] images or [N] vectors", sh)
	}
	im.input0, im.cur = sh, sh.Clone()
	return nil
}

func (im *importer) node(name string) error {
	n := im.g.Nodes[name]
	if im.amp != nil {
		if n.Type == "Scale" && im.scaleIsAmplitude(name) {
			im.amp = nil
			return nil
		}
		im.pend = make([]float64, len(im.amp))
		for i, th := range im.amp {
			im.pend[i] = 1 / float64(th)
		}
		im.amp = nil
	}
	switch n.Type {
	case "Affine", "Linear":
		return im.affine(name)
	case "Conv2d":
		return im.conv(name)
	case "AvgPool2d", "SumPool2d":
		return im.pool(name)
	case "Flatten":
		return im.flatten(name)
	case "Scale":
		return im.scale(name)
	case "IF", "LIF":
		return im.neuronLayer(name)
	case "Input", "Output":
		return im.errf(name, "a second %s node inside the chain", n.Type)
	case "NIRGraph":
		return im.errf(name, "nested NIR graphs are not supported")
	}
	return im.errf(name, "node type %q is not supported by evsnn (supported: %s)", n.Type, strings.Join(SupportedTypes, ", "))
}

func (im *importer) layerName(name string) string {
	if p, ok := im.g.Nodes[name].Metadata[MetaName]; ok {
		if s, ok := p.Text(); ok {
			return s
		}
	}
	return name
}

func (im *importer) push(l network.Layer, name string) error {
	out, err := l.OutShape(im.cur)
	if err != nil {
		return im.errf(name, "%v", err)
	}
	im.layers = append(im.layers, l)
	im.cur = out
	return nil
}

func (im *importer) affine(name string) error {
	wp, _, err := im.param(name, "weight", true)
	if err != nil {
		return err
	}
	if len(wp.Shape) != 2 {
		return im.errf(name, "weight has shape %v, want [out, in]", wp.Shape)
	}
	out, in := wp.Shape[0], wp.Shape[1]
	w, err := im.f32(name, "weight", []int{out, in})
	if err != nil {
		return err
	}
	var b []float32
	if im.g.Nodes[name].Type == "Affine" {
		if b, err = im.f32(name, "bias", []int{out}); err != nil {
			return err
		}
	} else {
		b = make([]float32, out)
	}
	if len(im.cur) != 1 {
		return im.errf(name, "input shape %v is not a vector: a Flatten node must come first", im.cur)
	}
	if im.cur[0] != in {
		return im.errf(name, "input has %d values, weight expects %d", im.cur[0], in)
	}
	l := &network.Linear{LayerName: im.layerName(name), In: in, Out: out, Weight: w, Bias: b}
	if im.pend != nil {
		for o := 0; o < out; o++ {
			row := l.Weight[o*in : (o+1)*in]
			for j, s := range im.pend {
				if s != 1 {
					row[j] = float32(float64(row[j]) * s)
				}
			}
		}
		im.pend = nil
	}
	if err := im.push(l, name); err != nil {
		return err
	}
	im.lastW, im.afterNeuron = len(im.layers)-1, false
	return nil
}

func (im *importer) conv(name string) error {
	wp, _, err := im.param(name, "weight", true)
	if err != nil {
		return err
	}
	if len(wp.Shape) != 4 {
		return im.errf(name, "weight has shape %v, want [C_out, C_in, kx, ky]", wp.Shape)
	}
	co, ci, kh, kw := wp.Shape[0], wp.Shape[1], wp.Shape[2], wp.Shape[3]
	w, err := im.f32(name, "weight", wp.Shape)
	if err != nil {
		return err
	}
	b, err := im.f32(name, "bias", []int{co})
	if err != nil {
		return err
	}
	if len(im.cur) != 3 {
		return im.errf(name, "input shape %v is not [C,H,W]", im.cur)
	}
	if im.cur[0] != ci {
		return im.errf(name, "input has %d channels, weight expects %d", im.cur[0], ci)
	}
	if v, ok, err := im.ints(name, "groups", false); err != nil {
		return err
	} else if ok && (len(v) != 1 || v[0] != 1) {
		return im.errf(name, "groups %v: evsnn supports only groups = 1", v)
	}
	dh, dw, err := im.pair(name, "dilation", false, 1)
	if err != nil {
		return err
	}
	if dh != 1 || dw != 1 {
		return im.errf(name, "dilation %dx%d: evsnn supports only dilation 1", dh, dw)
	}
	sh, sw, err := im.pair(name, "stride", false, 1)
	if err != nil {
		return err
	}
	var ph, pw int
	if p, ok := im.g.Nodes[name].Params["padding"]; ok && p.DType == String {
		mode, _ := p.Text()
		switch mode {
		case "valid":
		case "same":
			if sh != 1 || sw != 1 || kh%2 == 0 || kw%2 == 0 {
				return im.errf(name, `padding "same" with stride %dx%d and kernel %dx%d: evsnn pads symmetrically, so only stride 1 and odd kernels`, sh, sw, kh, kw)
			}
			ph, pw = kh/2, kw/2
		default:
			return im.errf(name, "padding %q: want \"valid\", \"same\" or numbers", mode)
		}
	} else if ph, pw, err = im.pair(name, "padding", false, 0); err != nil {
		return err
	}
	if v, ok, err := im.ints(name, "input_shape", false); err != nil {
		return err
	} else if ok && len(v) > 0 && !slices.Equal(v, []int(im.cur[1:])) {
		return im.errf(name, "input_shape %v does not match the incoming shape %v", v, im.cur)
	}
	l := &network.Conv2d{LayerName: im.layerName(name), InC: ci, OutC: co, KH: kh, KW: kw,
		StrideH: sh, StrideW: sw, PadH: ph, PadW: pw, Weight: w, Bias: b}
	if im.pend != nil {
		s, ok := perChannel(im.pend, ci)
		if !ok {
			return im.errf(name, "a scale before this convolution (after node %q) differs within a channel; only per-channel scales fold into a convolution", im.neuron)
		}
		per := kh * kw
		for o := 0; o < co; o++ {
			for c := 0; c < ci; c++ {
				if s[c] == 1 {
					continue
				}
				blk := l.Weight[(o*ci+c)*per : (o*ci+c+1)*per]
				for k := range blk {
					blk[k] = float32(float64(blk[k]) * s[c])
				}
			}
		}
		im.pend = nil
	}
	if err := im.push(l, name); err != nil {
		return err
	}
	im.lastW, im.afterNeuron = len(im.layers)-1, false
	return nil
}

func (im *importer) pool(name string) error {
	kh, kw, err := im.pair(name, "kernel_size", true, 0)
	if err != nil {
		return err
	}
	sh, sw := kh, kw
	if p, ok := im.g.Nodes[name].Params["stride"]; ok && p.Len() > 0 {
		if sh, sw, err = im.pair(name, "stride", true, 0); err != nil {
			return err
		}
	}
	ph, pw, err := im.pair(name, "padding", false, 0)
	if err != nil {
		return err
	}
	if ph != 0 || pw != 0 {
		return im.errf(name, "padding %dx%d: evsnn pools without padding", ph, pw)
	}
	if len(im.cur) != 3 {
		return im.errf(name, "input shape %v is not [C,H,W]", im.cur)
	}
	in := im.cur
	l := &network.AvgPool2d{LayerName: im.layerName(name), KH: kh, KW: kw, StrideH: sh, StrideW: sw}
	if err := im.push(l, name); err != nil {
		return err
	}
	factor := 1.0
	if im.g.Nodes[name].Type == "SumPool2d" {
		factor = float64(kh * kw)
	}
	if im.pend == nil && factor == 1 {
		return nil
	}
	var s []float64
	if im.pend == nil {
		s = make([]float64, in[0])
		for i := range s {
			s[i] = 1
		}
	} else {
		var ok bool
		if s, ok = perChannel(im.pend, in[0]); !ok {
			return im.errf(name, "a scale before this pooling differs within a channel; only per-channel scales pass a pooling layer")
		}
	}
	per := im.cur.Size() / im.cur[0]
	im.pend = make([]float64, im.cur.Size())
	for i := range im.pend {
		im.pend[i] = s[i/per] * factor
	}
	return nil
}

func (im *importer) flatten(name string) error {
	start, end := 1, -1 // NIR's defaults
	if v, ok, err := im.ints(name, "start_dim", false); err != nil {
		return err
	} else if ok {
		if len(v) != 1 {
			return im.errf(name, "start_dim has %d values", len(v))
		}
		start = v[0]
	}
	if v, ok, err := im.ints(name, "end_dim", false); err != nil {
		return err
	} else if ok {
		if len(v) != 1 {
			return im.errf(name, "end_dim has %d values", len(v))
		}
		end = v[0]
	}
	if v, ok, err := im.ints(name, "input_type", false); err != nil {
		return err
	} else if ok && len(v) > 0 {
		switch {
		case slices.Equal(v, []int(im.cur)):
		case len(v) == len(im.cur)+1 && v[0] == 1 && slices.Equal(v[1:], []int(im.cur)):
			// The dimensions count a batch dimension.
			if start > 0 {
				start--
			}
			if end > 0 {
				end--
			}
		default:
			return im.errf(name, "input_type %v does not match the incoming shape %v", v, im.cur)
		}
	}
	nd := len(im.cur)
	if start < 0 {
		start += nd
	}
	if end < 0 {
		end += nd
	}
	if start < 0 || end >= nd || start > end {
		return im.errf(name, "start_dim..end_dim do not fit the incoming shape %v", im.cur)
	}
	out := slices.Clone([]int(im.cur[:start]))
	out = append(out, im.cur[start:end+1].Size())
	out = append(out, im.cur[end+1:]...)
	if slices.Equal(out, []int(im.cur)) {
		return nil // nothing to flatten
	}
	if len(out) != 1 {
		return im.errf(name, "flattens %v to %v; evsnn flattens only to a vector", im.cur, out)
	}
	return im.push(&network.Flatten{LayerName: im.layerName(name)}, name)
}

func (im *importer) scale(name string) error {
	v, p, err := im.floats(name, "scale", true)
	if err != nil {
		return err
	}
	size := im.cur.Size()
	if len(v) != 1 && (len(v) != size || p.Size() != size) {
		return im.errf(name, "scale has shape %v, the incoming shape is %v", p.Shape, im.cur)
	}
	if im.pend == nil {
		im.pend = make([]float64, size)
		for i := range im.pend {
			im.pend[i] = 1
		}
	}
	for i := range im.pend {
		if len(v) == 1 {
			im.pend[i] *= v[0]
		} else {
			im.pend[i] *= v[i]
		}
	}
	return nil
}

// scaleIsAmplitude reports whether a Scale node right after a neuron node is
// exactly its θ per neuron.
func (im *importer) scaleIsAmplitude(name string) bool {
	p := im.g.Nodes[name].Params["scale"]
	return p.DType == Float32 && len(p.F32) == len(im.amp) && p.Size() == len(im.amp) &&
		slices.EqualFunc(p.F32, im.amp, func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) })
}

// neuronParam reads a per-neuron parameter: one value per neuron (shape as
// the incoming tensor) or a single value. def is used when it is optional
// and missing.
func (im *importer) neuronParam(name, key string, required bool, def float64) ([]float64, error) {
	v, p, err := im.floats(name, key, required)
	if err != nil {
		return nil, err
	}
	size := im.cur.Size()
	out := make([]float64, size)
	switch {
	case v == nil:
		for i := range out {
			out[i] = def
		}
	case len(v) == 1:
		for i := range out {
			out[i] = v[0]
		}
	case len(v) == size && p.Size() == size:
		copy(out, v)
	default:
		return nil, im.errf(name, "parameter %q has shape %v, want the incoming shape %v (or one value)", key, p.Shape, im.cur)
	}
	return out, nil
}

func (im *importer) neuronLayer(name string) error {
	node := im.g.Nodes[name]
	if im.lastW < 0 {
		return im.errf(name, "a neuron layer must follow an Affine, Linear or Conv2d node (with at most pooling, Flatten or Scale nodes between)")
	}
	lif := node.Type == "LIF"
	r, err := im.neuronParam(name, "r", true, 1)
	if err != nil {
		return err
	}
	vth, err := im.neuronParam(name, "v_threshold", true, 0)
	if err != nil {
		return err
	}
	vreset, err := im.neuronParam(name, "v_reset", false, 0)
	if err != nil {
		return err
	}
	for i, v := range vreset {
		if v != 0 {
			return im.errf(name, "v_reset of neuron %d is %v: evsnn resets to 0 (hard) or subtracts the threshold (soft)", i, v)
		}
	}
	size := im.cur.Size()
	gain := make([]float64, size)
	var leak []float64
	alpha := float32(1)
	if lif {
		tau, err := im.neuronParam(name, "tau", true, 0)
		if err != nil {
			return err
		}
		vleak, err := im.neuronParam(name, "v_leak", true, 0)
		if err != nil {
			return err
		}
		a0 := 1 - im.dt/tau[0]
		for i, t := range tau {
			if !(t > im.dt) {
				return im.errf(name, "tau of neuron %d is %v, not above the time step dt = %v: the leak factor 1-dt/tau would not be in (0,1)", i, t, im.dt)
			}
			a := 1 - im.dt/t
			if math.Abs(a-a0) > 1e-6 {
				return im.errf(name, "tau differs between neurons (%v and %v): evsnn has one leak factor per layer", tau[0], t)
			}
			gain[i] = im.dt * r[i] / t
			if vleak[i] != 0 {
				if leak == nil {
					leak = make([]float64, size)
				}
				leak[i] = im.dt * vleak[i] / t
			}
		}
		alpha = float32(a0)
		if p, ok := node.Metadata[MetaAlpha]; ok {
			if v, err := p.Floats(); err == nil && len(v) == 1 && math.Abs(v[0]-a0) <= 1e-6 && v[0] > 0 && v[0] < 1 {
				alpha = float32(v[0])
			}
		}
		if !(alpha > 0 && alpha < 1) {
			return im.errf(name, "leak factor 1-dt/tau = %v is not in (0,1)", a0)
		}
	} else {
		for i := range gain {
			gain[i] = im.dt * r[i]
		}
	}
	for i, g := range gain {
		if math.Abs(g-1) <= gainTolerance {
			gain[i] = 1
		} else if g == 0 {
			return im.errf(name, "input gain of neuron %d is 0 (r = 0)", i)
		}
	}
	th, err := im.thresholds(name, vth)
	if err != nil {
		return err
	}
	l := &network.Spiking{LayerName: im.layerName(name), Threshold: th, Alpha: alpha, Reset: network.ResetHard}
	if p, ok := node.Metadata[MetaReset]; ok {
		s, _ := p.Text()
		switch network.Reset(s) {
		case network.ResetSoft, network.ResetHard:
			l.Reset = network.Reset(s)
		default:
			return im.errf(name, "metadata %q is %q, want soft or hard", MetaReset, s)
		}
	}
	if p, ok := node.Metadata[MetaV0Fraction]; ok {
		v, err := p.Floats()
		if err != nil || len(v) != 1 || math.IsNaN(v[0]) || math.IsInf(v[0], 0) {
			return im.errf(name, "metadata %q: want one finite number", MetaV0Fraction)
		}
		l.V0Fraction = float32(v[0])
		if p.DType == Float32 {
			l.V0Fraction = p.F32[0]
		}
	}
	if p, ok := node.Metadata[MetaV0]; ok {
		if p.DType != Float32 || len(p.F32) != size {
			return im.errf(name, "metadata %q: want %d float32 values", MetaV0, size)
		}
		l.V0 = clone32(p.F32)
	}
	// The input current of the NIR neuron is gain·(the incoming value) +
	// leak: fold both into the last weighted layer.
	scale := gain
	if im.pend != nil {
		for i := range scale {
			scale[i] *= im.pend[i]
		}
		im.pend = nil
	}
	if err := im.foldOut(name, scale, false); err != nil {
		return err
	}
	if leak != nil {
		if err := im.foldOut(name, leak, true); err != nil {
			return err
		}
	}
	if err := im.push(l, name); err != nil {
		return err
	}
	im.amp = expandThreshold(l, im.cur)
	im.lastW, im.afterNeuron, im.neuron = -1, true, name
	return nil
}

// thresholds turns per-neuron thresholds into evsnn's one-per-layer or
// one-per-channel form (the evsnn metadata, when it matches, bit for bit).
func (im *importer) thresholds(name string, vth []float64) ([]float32, error) {
	node := im.g.Nodes[name]
	for i, v := range vth {
		if !(v > 0) || float32(v) == 0 || math.IsInf(float64(float32(v)), 0) {
			return nil, im.errf(name, "v_threshold of neuron %d is %v: evsnn needs positive, finite thresholds", i, v)
		}
	}
	exact := make([]float32, len(vth))
	if p := node.Params["v_threshold"]; p.DType == Float32 && len(p.F32) == len(vth) {
		copy(exact, p.F32)
	} else {
		for i, v := range vth {
			exact[i] = float32(v)
		}
	}
	if p, ok := node.Metadata[MetaThreshold]; ok && p.DType == Float32 && (len(p.F32) == 1 || len(p.F32) == im.cur[0]) {
		l := &network.Spiking{Threshold: p.F32}
		match := true
		for i := range exact {
			if math.Float32bits(l.ThresholdAt(im.cur, i)) != math.Float32bits(exact[i]) {
				match = false
				break
			}
		}
		if match {
			return clone32(p.F32), nil
		}
	}
	if slices.IndexFunc(exact, func(v float32) bool { return v != exact[0] }) < 0 {
		return []float32{exact[0]}, nil
	}
	c := im.cur[0]
	per := len(exact) / c
	th := make([]float32, c)
	for i, v := range exact {
		if v != exact[i/per*per] {
			return nil, im.errf(name, "v_threshold differs within channel %d: evsnn has one threshold per layer or per channel", i/per)
		}
		th[i/per] = v
	}
	return th, nil
}

// foldOut multiplies (add = false) or adds to (add = true) the output of the
// last weighted layer elementwise by v, a vector over the current shape.
func (im *importer) foldOut(name string, v []float64, add bool) error {
	if !add && !slices.ContainsFunc(v, func(x float64) bool { return x != 1 }) {
		return nil
	}
	switch w := im.layers[im.lastW].(type) {
	case *network.Linear:
		if len(v) != w.Out {
			return im.errf(name, "internal: %d values for %d outputs", len(v), w.Out)
		}
		for o, s := range v {
			if add {
				w.Bias[o] = float32(float64(w.Bias[o]) + s)
				continue
			}
			if s == 1 {
				continue
			}
			row := w.Weight[o*w.In : (o+1)*w.In]
			for j := range row {
				row[j] = float32(float64(row[j]) * s)
			}
			w.Bias[o] = float32(float64(w.Bias[o]) * s)
		}
	case *network.Conv2d:
		s, ok := perChannel(v, w.OutC)
		if !ok {
			what := "the input gain (r, tau) or a Scale"
			if add {
				what = "v_leak"
			}
			return im.errf(name, "%s differs within a channel of convolution %q; only per-channel values fold into a convolution", what, w.LayerName)
		}
		per := w.InC * w.KH * w.KW
		for o, x := range s {
			if add {
				w.Bias[o] = float32(float64(w.Bias[o]) + x)
				continue
			}
			if x == 1 {
				continue
			}
			blk := w.Weight[o*per : (o+1)*per]
			for j := range blk {
				blk[j] = float32(float64(blk[j]) * x)
			}
			w.Bias[o] = float32(float64(w.Bias[o]) * x)
		}
	}
	return nil
}

// perChannel returns one value per channel if v (a vector over a tensor
// with c channels first) is constant within each channel.
func perChannel(v []float64, c int) ([]float64, bool) {
	if c <= 0 || len(v)%c != 0 {
		return nil, false
	}
	per := len(v) / c
	out := make([]float64, c)
	for i, x := range v {
		if x != v[i/per*per] {
			return nil, false
		}
		out[i/per] = x
	}
	return out, true
}

// output ends the network. A graph that ends in a neuron layer gets an
// identity Linear readout named "readout", so that the network ends in a
// readout as evsnn networks must (SPEC §1) and its accumulated output is the
// NIR graph's output (the spike counts, times any Scale after the last
// neuron node).
func (im *importer) output(name string) error {
	if sh, ok, err := im.shapeParam(name, "shape", false); err != nil {
		return err
	} else if ok && sh.Size() != im.cur.Size() {
		return im.errf(name, "shape %v does not match the incoming shape %v", sh, im.cur)
	}
	if im.amp != nil {
		im.pend = make([]float64, len(im.amp))
		for i, th := range im.amp {
			im.pend[i] = 1 / float64(th)
		}
		im.amp = nil
	}
	if im.afterNeuron {
		return im.readout(name)
	}
	if im.pend != nil {
		if im.lastW < 0 {
			return im.errf(name, "a Scale before the output cannot be folded into any layer")
		}
		return im.foldOut(name, im.pend, false)
	}
	return nil
}

// maxReadout bounds the identity readout appended after a trailing neuron
// layer (its weight matrix is n×n).
const maxReadout = 4096

func (im *importer) readout(name string) error {
	n := im.cur.Size()
	if n > maxReadout {
		return im.errf(name, "the graph ends in %d neurons; evsnn would need a %d×%d identity readout (limit %d)", n, n, n, maxReadout)
	}
	used := map[string]bool{}
	for _, l := range im.layers {
		used[l.Name()] = true
	}
	if len(im.cur) != 1 {
		fn := "readout_flatten"
		for used[fn] {
			fn += "_"
		}
		if err := im.push(&network.Flatten{LayerName: fn}, name); err != nil {
			return err
		}
	}
	rn := "readout"
	for used[rn] {
		rn += "_"
	}
	l := &network.Linear{LayerName: rn, In: n, Out: n, Weight: make([]float32, n*n), Bias: make([]float32, n)}
	for i := 0; i < n; i++ {
		s := 1.0
		if im.pend != nil {
			s = im.pend[i]
		}
		l.Weight[i*n+i] = float32(s)
	}
	im.pend = nil
	return im.push(l, name)
}
