package nir

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/evsnn/evsnn/network"
)

// The NIR nodes of one evsnn layer (not an Add), reading a tensor of shape
// in: the layer's node first, then the Scale nodes evsnn puts after it.

func (ex *exporter) nodes(i int, in network.Shape) ([]*Node, error) {
	out := ex.shapes[i]
	switch l := ex.net.Layers[i].(type) {
	case *network.Conv2d:
		own, bias := ex.weightedBias(i, l.Bias)
		n := &Node{Type: "Conv2d", Params: map[string]Param{
			"weight":      F32Array([]int{l.OutC, l.InC, l.KH, l.KW}, clone32(l.Weight)),
			"bias":        F32Array([]int{l.OutC}, bias),
			"stride":      I64Array(l.StrideH, l.StrideW),
			"padding":     I64Array(l.PadH, l.PadW),
			"dilation":    I64Array(1, 1),
			"groups":      I64Scalar(1),
			"input_shape": I64Array(in[1], in[2]),
		}}
		ex.markAddBias(i, n, own)
		return []*Node{n}, nil
	case *network.Linear:
		return []*Node{ex.affine(i, l.Out, l.In, clone32(l.Weight), l.Bias)}, nil
	case *network.SparseLinear:
		// NIR has no sparse projection: the weights go out dense, zeros
		// where no synapse is, and the caller is told (Graph.Notes).
		if int64(l.Out)*int64(l.In) > maxDenseSparse {
			return nil, fmt.Errorf("layer %d (sparselinear %q): NIR has no sparse projection, and as a dense Affine its %d×%d weights (%d synapses) exceed the %d values a NIR dataset may hold", i, l.Name(), l.Out, l.In, len(l.Weights), maxDenseSparse)
		}
		n := ex.affine(i, l.Out, l.In, l.Dense(), l.Bias)
		setMeta(n, MetaLayer, Str(string(network.KindSparseLinear)))
		setMeta(n, MetaSynapses, I64Scalar(len(l.Weights)))
		ex.g.Notes = append(ex.g.Notes, fmt.Sprintf("layer %d (sparselinear %q): written as a dense %s of %d×%d weights, %d of them synapses and the rest zeros (NIR has no sparse projection; importing the file gives a dense Linear)",
			i, l.Name(), n.Type, l.Out, l.In, len(l.Weights)))
		return []*Node{n}, nil
	case *network.AvgPool2d:
		padded := l.PadH > 0 || l.PadW > 0
		// A padded average is written as a sum and a Scale by the exact
		// divisor of each window: NIR's AvgPool2d does not say how it
		// counts the padding.
		sum := ex.opt.SumPool || padded
		n := poolNode(sum, []int{l.KH, l.KW}, []int{l.StrideH, l.StrideW}, []int{l.PadH, l.PadW})
		if !padded && l.CountIncludePad {
			setMeta(n, MetaCountIncludePad, I64Scalar(1))
		}
		if !sum {
			return []*Node{n}, nil
		}
		sc := make([]float32, out.Size())
		for j := range sc {
			oy, ox := j/out[2]%out[1], j%out[2]
			sc[j] = float32(1) / float32(l.Divisor(in[1], in[2], oy, ox))
		}
		return []*Node{n, sumScale(out, sc)}, nil
	case *network.GlobalAvgPool:
		n := poolNode(ex.opt.SumPool, []int{in[1], in[2]}, []int{in[1], in[2]}, []int{0, 0})
		setMeta(n, MetaLayer, Str(string(network.KindGlobalAvgPool)))
		if !ex.opt.SumPool {
			return []*Node{n}, nil
		}
		sc := make([]float32, out.Size())
		for j := range sc {
			sc[j] = float32(1) / float32(in[1]*in[2])
		}
		return []*Node{n, sumScale(out, sc)}, nil
	case *network.Flatten:
		return []*Node{{Type: "Flatten", Params: map[string]Param{
			"start_dim":  I64Scalar(0),
			"end_dim":    I64Scalar(-1),
			"input_type": I64Array(in...),
		}}}, nil
	case *network.Spiking:
		// An evsnn spike carries amplitude θ into the next layer (SPEC
		// §2); a NIR spike is 1. The Scale node after the neuron says so.
		amp := &Node{Type: "Scale", Params: map[string]Param{"scale": F32Array(out, expandThreshold(l, out))}}
		setMeta(amp, MetaRole, Str(RoleAmplitude))
		return []*Node{neuronNode(l, out, ex.dt), amp}, nil
	default:
		return nil, fmt.Errorf("layer %d (%s %q): no NIR equivalent", i, l.Kind(), l.Name())
	}
}

// maxDenseSparse bounds the dense weights of an exported SparseLinear: the
// values ReadFile takes in one dataset (maxDatasetElements, under the hdf5
// tag), so that what evsnn writes it can read back.
const maxDenseSparse = 1 << 28

// affine is the node of a Linear (or SparseLinear, dense) layer i: an
// Affine, or a Linear when every bias is +0.
func (ex *exporter) affine(i, out, in int, weight, b []float32) *Node {
	own, bias := ex.weightedBias(i, b)
	n := &Node{Type: "Affine", Params: map[string]Param{
		"weight": F32Array([]int{out, in}, weight),
		"bias":   F32Array([]int{out}, bias),
	}}
	if allPositiveZero(bias) {
		n = &Node{Type: "Linear", Params: map[string]Param{"weight": n.Params["weight"]}}
	}
	ex.markAddBias(i, n, own)
	return n
}

// weightedBias returns the bias of weighted layer i and the bias its node
// gets: with the bias of the Add it feeds folded in, if it takes one.
func (ex *exporter) weightedBias(i int, b []float32) (own, node []float32) {
	a, ok := ex.biasOf[i]
	if !ok {
		return nil, clone32(b)
	}
	add := ex.net.Layers[a].(*network.Add).Bias
	node = make([]float32, len(b))
	for c := range b {
		node[c] = b[c] + add[c]
	}
	return b, node
}

// markAddBias records, on the node of a weighted layer that took an Add's
// bias, its own bias and the Add's, so that import can undo the folding
// bit for bit.
func (ex *exporter) markAddBias(i int, n *Node, own []float32) {
	if own == nil {
		return
	}
	a := ex.biasOf[i]
	setMeta(n, MetaBias, F32Array([]int{len(own)}, clone32(own)))
	add := ex.net.Layers[a].(*network.Add).Bias
	setMeta(n, MetaAddBias, F32Array([]int{len(add)}, clone32(add)))
}

func poolNode(sum bool, kernel, stride, padding []int) *Node {
	typ := "AvgPool2d"
	if sum {
		typ = "SumPool2d"
	}
	return &Node{Type: typ, Params: map[string]Param{
		"kernel_size": I64Array(kernel...),
		"stride":      I64Array(stride...),
		"padding":     I64Array(padding...),
	}}
}

// sumScale is the Scale after a SumPool2d that makes it an average.
func sumScale(out network.Shape, sc []float32) *Node {
	s := &Node{Type: "Scale", Params: map[string]Param{"scale": F32Array(out, sc)}}
	setMeta(s, MetaRole, Str(RoleSumPool))
	return s
}

// neuronNode writes a Spiking layer as NIR IF (α = 1) or LIF (α < 1), with
// the evsnn specifics in the node metadata.
func neuronNode(l *network.Spiking, sh network.Shape, dt float64) *Node {
	size := sh.Size()
	full := func(v float32) []float32 {
		s := make([]float32, size)
		for i := range s {
			s[i] = v
		}
		return s
	}
	shape := []int(sh)
	n := &Node{Params: map[string]Param{
		"v_threshold": F32Array(shape, expandThreshold(l, sh)),
		"v_reset":     F32Array(shape, full(0)),
	}}
	if l.Alpha == 1 {
		n.Type = "IF"
		n.Params["r"] = F32Array(shape, full(float32(1/dt)))
	} else {
		n.Type = "LIF"
		tau := float32(dt / (1 - float64(l.Alpha)))
		n.Params["tau"] = F32Array(shape, full(tau))
		n.Params["r"] = F32Array(shape, full(float32(float64(tau)/dt)))
		n.Params["v_leak"] = F32Array(shape, full(0))
	}
	setMeta(n, MetaAlpha, F32Scalar(l.Alpha))
	setMeta(n, MetaReset, Str(string(l.Reset)))
	setMeta(n, MetaV0Fraction, F32Scalar(l.V0Fraction))
	setMeta(n, MetaThreshold, F32Array([]int{len(l.Threshold)}, clone32(l.Threshold)))
	if l.V0 != nil {
		setMeta(n, MetaV0, F32Array(shape, clone32(l.V0)))
	}
	return n
}

// expandThreshold is θ for every neuron of a layer of shape sh.
func expandThreshold(l *network.Spiking, sh network.Shape) []float32 {
	out := make([]float32, sh.Size())
	for i := range out {
		out[i] = l.ThresholdAt(sh, i)
	}
	return out
}

func setMeta(n *Node, key string, p Param) {
	if n.Metadata == nil {
		n.Metadata = map[string]Param{}
	}
	n.Metadata[key] = p
}

// nodeNames gives every layer a node name: its own name when that is
// usable and unique, otherwise "<kind><index>".
func nodeNames(net *network.Network) []string {
	names := make([]string, len(net.Layers))
	used := map[string]bool{"input": true, "output": true}
	for i, l := range net.Layers {
		name := strings.ReplaceAll(l.Name(), "/", "_")
		name = strings.ReplaceAll(name, "\x00", "_")
		if checkName(name) != nil || used[name] || strings.HasSuffix(name, "_amplitude") || strings.HasSuffix(name, "_scale") {
			name = string(l.Kind()) + strconv.Itoa(i)
		}
		for used[name] {
			name += "_"
		}
		used[name] = true
		names[i] = name
	}
	return names
}

func uniqueName(g *Graph, name string) string {
	for {
		if _, taken := g.Nodes[name]; !taken {
			return name
		}
		name += "_"
	}
}

func clone32(s []float32) []float32 { return append([]float32(nil), s...) }

func allPositiveZero(s []float32) bool {
	for _, v := range s {
		if math.Float32bits(v) != 0 {
			return false
		}
	}
	return true
}
