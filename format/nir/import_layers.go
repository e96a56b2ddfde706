package nir

import (
	"math"
	"slices"

	"github.com/evsnn/evsnn/network"
)

// The NIR nodes that become evsnn layers other than neurons: Affine and
// Linear, Conv2d, AvgPool2d and SumPool2d, Flatten; and Scale, which
// becomes a factor folded into the next weighted layer.

func (im *importer) affine(name string, v value) (value, error) {
	wp, _, err := im.param(name, "weight", true)
	if err != nil {
		return value{}, err
	}
	if len(wp.Shape) != 2 {
		return value{}, im.errf(name, "weight has shape %v, want [out, in]", wp.Shape)
	}
	out, in := wp.Shape[0], wp.Shape[1]
	w, err := im.f32(name, "weight", []int{out, in})
	if err != nil {
		return value{}, err
	}
	var b []float32
	if im.g.Nodes[name].Type == "Affine" {
		if b, err = im.f32(name, "bias", []int{out}); err != nil {
			return value{}, err
		}
	} else {
		b = make([]float32, out)
	}
	if len(v.shape) != 1 {
		return value{}, im.errf(name, "input shape %v is not a vector: a Flatten node must come first", v.shape)
	}
	if v.shape[0] != in {
		return value{}, im.errf(name, "input has %d values, weight expects %d", v.shape[0], in)
	}
	if im.isAddBiasNode(name, v, w, out, in) {
		v.addBias = b
		return v, nil
	}
	own, add := im.splitAddBias(name, b)
	l := &network.Linear{LayerName: im.layerName(name), In: in, Out: out, Weight: w, Bias: own}
	if v.pend != nil {
		for o := 0; o < out; o++ {
			row := l.Weight[o*in : (o+1)*in]
			for j, s := range v.pend {
				if s != 1 {
					row[j] = float32(float64(row[j]) * s)
				}
			}
		}
	}
	idx, sh, err := im.push(l, name, v.shape, v.src)
	if err != nil {
		return value{}, err
	}
	return value{src: idx, shape: sh, lastW: idx, neuron: v.neuron, sumPool: -1, addBias: add}, nil
}

func (im *importer) conv(name string, v value) (value, error) {
	wp, _, err := im.param(name, "weight", true)
	if err != nil {
		return value{}, err
	}
	if len(wp.Shape) != 4 {
		return value{}, im.errf(name, "weight has shape %v, want [C_out, C_in, kx, ky]", wp.Shape)
	}
	co, ci, kh, kw := wp.Shape[0], wp.Shape[1], wp.Shape[2], wp.Shape[3]
	w, err := im.f32(name, "weight", wp.Shape)
	if err != nil {
		return value{}, err
	}
	b, err := im.f32(name, "bias", []int{co})
	if err != nil {
		return value{}, err
	}
	cur := v.shape
	if len(cur) != 3 {
		return value{}, im.errf(name, "input shape %v is not [C,H,W]", cur)
	}
	if cur[0] != ci {
		return value{}, im.errf(name, "input has %d channels, weight expects %d", cur[0], ci)
	}
	if g, ok, err := im.ints(name, "groups", false); err != nil {
		return value{}, err
	} else if ok && (len(g) != 1 || g[0] != 1) {
		return value{}, im.errf(name, "groups %v: evsnn supports only groups = 1", g)
	}
	dh, dw, err := im.pair(name, "dilation", false, 1)
	if err != nil {
		return value{}, err
	}
	if dh != 1 || dw != 1 {
		return value{}, im.errf(name, "dilation %dx%d: evsnn supports only dilation 1", dh, dw)
	}
	sh, sw, err := im.pair(name, "stride", false, 1)
	if err != nil {
		return value{}, err
	}
	var ph, pw int
	if p, ok := im.g.Nodes[name].Params["padding"]; ok && p.DType == String {
		mode, _ := p.Text()
		switch mode {
		case "valid":
		case "same":
			if sh != 1 || sw != 1 || kh%2 == 0 || kw%2 == 0 {
				return value{}, im.errf(name, `padding "same" with stride %dx%d and kernel %dx%d: evsnn pads symmetrically, so only stride 1 and odd kernels`, sh, sw, kh, kw)
			}
			ph, pw = kh/2, kw/2
		default:
			return value{}, im.errf(name, "padding %q: want \"valid\", \"same\" or numbers", mode)
		}
	} else if ph, pw, err = im.pair(name, "padding", false, 0); err != nil {
		return value{}, err
	}
	if s, ok, err := im.ints(name, "input_shape", false); err != nil {
		return value{}, err
	} else if ok && len(s) > 0 && !slices.Equal(s, []int(cur[1:])) {
		return value{}, im.errf(name, "input_shape %v does not match the incoming shape %v", s, cur)
	}
	if kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0 && im.isAddBiasNode(name, v, w, co, ci) {
		v.addBias = b
		return v, nil
	}
	own, add := im.splitAddBias(name, b)
	l := &network.Conv2d{LayerName: im.layerName(name), InC: ci, OutC: co, KH: kh, KW: kw,
		StrideH: sh, StrideW: sw, PadH: ph, PadW: pw, Weight: w, Bias: own}
	if v.pend != nil {
		s, ok := perChannel(v.pend, ci)
		if !ok {
			return value{}, im.errf(name, "a scale before this convolution (after node %q) differs within a channel; only per-channel scales fold into a convolution", v.neuron)
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
	}
	idx, out, err := im.push(l, name, cur, v.src)
	if err != nil {
		return value{}, err
	}
	return value{src: idx, shape: out, lastW: idx, neuron: v.neuron, sumPool: -1, addBias: add}, nil
}

// isAddBiasNode reports whether node name (an Affine, or a 1×1 Conv2d, of
// weight w [out, in(, 1, 1)]) is the identity that evsnn's export puts on
// a branch of an Add that has no weighted layer to hold the Add's bias: it
// says so (MetaRole), its weight is exactly the identity, nothing is
// pending on its input, and it feeds only a neuron node that sums several
// edges. Then it becomes no layer: its bias goes to the Add.
func (im *importer) isAddBiasNode(name string, v value, w []float32, out, in int) bool {
	if role, _ := im.g.Nodes[name].Metadata[MetaRole].Text(); role != RoleAddBias {
		return false
	}
	if out != in || v.lastW >= 0 || v.addBias != nil || !allOnes(v.pend) || !im.joins(name) {
		return false
	}
	for o := 0; o < out; o++ {
		for c := 0; c < in; c++ {
			want := uint32(0)
			if o == c {
				want = math.Float32bits(1)
			}
			if math.Float32bits(w[o*in+c]) != want {
				return false
			}
		}
	}
	return true
}

// splitAddBias undoes evsnn's folding of an Add's bias into the weighted
// layer of one of its branches: when node name carries its own bias
// (MetaBias) and the Add's (MetaAddBias), their float32 sum is exactly the
// node's bias, and the node feeds only a neuron node that sums several
// edges, it returns the two; otherwise the node's bias and nil (another
// tool changed the graph: the folded bias means the same).
func (im *importer) splitAddBias(name string, bias []float32) (own, add []float32) {
	md := im.g.Nodes[name].Metadata
	o, ok1 := md[MetaBias]
	a, ok2 := md[MetaAddBias]
	if !ok1 || !ok2 || o.DType != Float32 || a.DType != Float32 || len(o.F32) != len(bias) || len(a.F32) != len(bias) || !im.joins(name) {
		return bias, nil
	}
	for c := range bias {
		sum := o.F32[c] + a.F32[c]
		if math.Float32bits(sum) != math.Float32bits(bias[c]) {
			return bias, nil
		}
	}
	return clone32(o.F32), clone32(a.F32)
}

// joins reports whether node name feeds exactly one node, a neuron node
// into which several edges lead (an Add in evsnn).
func (im *importer) joins(name string) bool {
	out := im.dag.Out[name]
	if len(out) != 1 {
		return false
	}
	t := im.g.Nodes[out[0]].Type
	return (t == "IF" || t == "LIF") && len(im.dag.In[out[0]]) > 1
}

func allOnes(v []float64) bool {
	return !slices.ContainsFunc(v, func(x float64) bool { return x != 1 })
}

func (im *importer) pool(name string, v value) (value, error) {
	kh, kw, err := im.pair(name, "kernel_size", true, 0)
	if err != nil {
		return value{}, err
	}
	sh, sw := kh, kw
	if p, ok := im.g.Nodes[name].Params["stride"]; ok && p.Len() > 0 {
		if sh, sw, err = im.pair(name, "stride", true, 0); err != nil {
			return value{}, err
		}
	}
	ph, pw, err := im.pair(name, "padding", false, 0)
	if err != nil {
		return value{}, err
	}
	in := v.shape
	if len(in) != 3 {
		return value{}, im.errf(name, "input shape %v is not [C,H,W]", in)
	}
	sum := im.g.Nodes[name].Type == "SumPool2d"
	md := im.g.Nodes[name].Metadata
	kind, _ := md[MetaLayer].Text()
	var l network.Layer
	factor := 1.0
	if kind == string(network.KindGlobalAvgPool) && kh == in[1] && kw == in[2] && ph == 0 && pw == 0 {
		l = &network.GlobalAvgPool{LayerName: im.layerName(name)}
		if sum {
			factor = float64(kh * kw)
		}
	} else {
		// NIR's AvgPool2d with padding is PyTorch's, which counts the
		// padding (count_include_pad=True). Without padding the flag means
		// nothing; evsnn's metadata keeps it for the round trip. A padded
		// SumPool2d starts so too; a Scale after it may say otherwise.
		cip := ph > 0 || pw > 0
		if p, ok := md[MetaCountIncludePad]; ok && !cip {
			if x, err := p.Ints(); err == nil && len(x) == 1 {
				cip = x[0] != 0
			}
		}
		l = &network.AvgPool2d{LayerName: im.layerName(name), KH: kh, KW: kw, StrideH: sh, StrideW: sw, PadH: ph, PadW: pw, CountIncludePad: cip}
		if sum {
			factor = float64(kh * kw)
		}
	}
	s := make([]float64, in[0])
	for i := range s {
		s[i] = 1
	}
	if v.pend != nil {
		var ok bool
		if s, ok = perChannel(v.pend, in[0]); !ok {
			return value{}, im.errf(name, "a scale before this pooling differs within a channel; only per-channel scales pass a pooling layer")
		}
	}
	idx, out, err := im.push(l, name, in, v.src)
	if err != nil {
		return value{}, err
	}
	res := value{src: idx, shape: out, lastW: v.lastW, afterNeuron: v.afterNeuron, neuron: v.neuron, sumPool: -1}
	res.pend = expand(s, factor, out)
	if sum {
		res.sumPool, res.sumPoolNode, res.prePool = idx, name, s
	}
	return res, nil
}

// expand is the per-channel scale s times factor over a tensor of shape
// sh, or nil if it is 1 everywhere.
func expand(s []float64, factor float64, sh network.Shape) []float64 {
	if factor == 1 && allOnes(s) {
		return nil
	}
	per := sh.Size() / sh[0]
	out := make([]float64, sh.Size())
	for i := range out {
		out[i] = s[i/per] * factor
	}
	return out
}

func (im *importer) flatten(name string, v value) (value, error) {
	cur := v.shape
	start, end := 1, -1 // NIR's defaults
	if x, ok, err := im.ints(name, "start_dim", false); err != nil {
		return value{}, err
	} else if ok {
		if len(x) != 1 {
			return value{}, im.errf(name, "start_dim has %d values", len(x))
		}
		start = x[0]
	}
	if x, ok, err := im.ints(name, "end_dim", false); err != nil {
		return value{}, err
	} else if ok {
		if len(x) != 1 {
			return value{}, im.errf(name, "end_dim has %d values", len(x))
		}
		end = x[0]
	}
	if x, ok, err := im.ints(name, "input_type", false); err != nil {
		return value{}, err
	} else if ok && len(x) > 0 {
		switch {
		case slices.Equal(x, []int(cur)):
		case len(x) == len(cur)+1 && x[0] == 1 && slices.Equal(x[1:], []int(cur)):
			// The dimensions count a batch dimension.
			if start > 0 {
				start--
			}
			if end > 0 {
				end--
			}
		default:
			return value{}, im.errf(name, "input_type %v does not match the incoming shape %v", x, cur)
		}
	}
	nd := len(cur)
	if start < 0 {
		start += nd
	}
	if end < 0 {
		end += nd
	}
	if start < 0 || end >= nd || start > end {
		return value{}, im.errf(name, "start_dim..end_dim do not fit the incoming shape %v", cur)
	}
	out := slices.Clone([]int(cur[:start]))
	out = append(out, cur[start:end+1].Size())
	out = append(out, cur[end+1:]...)
	if slices.Equal(out, []int(cur)) {
		return v, nil // nothing to flatten
	}
	if len(out) != 1 {
		return value{}, im.errf(name, "flattens %v to %v; evsnn flattens only to a vector", cur, out)
	}
	idx, sh, err := im.push(&network.Flatten{LayerName: im.layerName(name)}, name, cur, v.src)
	if err != nil {
		return value{}, err
	}
	// The elementwise order is kept, so a pending scale stays as it is.
	return value{src: idx, shape: sh, lastW: v.lastW, pend: v.pend, afterNeuron: v.afterNeuron, neuron: v.neuron, sumPool: -1}, nil
}

func (im *importer) scale(name string, v value) (value, error) {
	x, p, err := im.floats(name, "scale", true)
	if err != nil {
		return value{}, err
	}
	size := v.shape.Size()
	if len(x) != 1 && (len(x) != size || p.Size() != size) {
		return value{}, im.errf(name, "scale has shape %v, the incoming shape is %v", p.Shape, v.shape)
	}
	at := func(i int) float64 {
		if len(x) == 1 {
			return x[0]
		}
		return x[i]
	}
	if v.sumPool >= 0 && len(im.dag.Out[v.sumPoolNode]) == 1 {
		// (Only the one Scale after the pool may change it.)
		if done, ok := im.averages(v, at); ok {
			return done, nil
		}
	}
	pend := make([]float64, size)
	for i := range pend {
		pend[i] = at(i)
		if v.pend != nil {
			pend[i] *= v.pend[i]
		}
	}
	v.pend, v.sumPool, v.prePool = pend, -1, nil
	return v, nil
}

// averages recognises the Scale after a SumPool2d that makes it an average
// (evsnn writes one for every padded AvgPool2d, and for every AvgPool2d
// with ExportOptions.SumPool): 1/(kh·kw) everywhere, or 1/(the number of
// window positions inside the input) per output position. Then the pool
// becomes the evsnn AvgPool2d (or GlobalAvgPool) that computes exactly
// that, and nothing is left to fold.
func (im *importer) averages(v value, at func(int) float64) (value, bool) {
	is := func(x float64, div int) bool {
		return x == 1/float64(div) || x == float64(float32(1/float64(div)))
	}
	matches := func(div func(oy, ox int) int) bool {
		oh, ow := v.shape[1], v.shape[2]
		for i := range v.shape.Size() {
			if !is(at(i), div(i/ow%oh, i%ow)) {
				return false
			}
		}
		return true
	}
	l := im.layers[v.sumPool]
	in := im.shapeIn(v.sumPool)
	switch l := l.(type) {
	case *network.GlobalAvgPool:
		if !matches(func(int, int) int { return in[1] * in[2] }) {
			return value{}, false
		}
	case *network.AvgPool2d:
		padded := l.PadH > 0 || l.PadW > 0
		switch {
		case matches(func(int, int) int { return l.KH * l.KW }):
			if padded {
				l.CountIncludePad = true
			}
		case padded && matches(func(oy, ox int) int {
			q := *l
			q.CountIncludePad = false
			return q.Divisor(in[1], in[2], oy, ox)
		}):
			l.CountIncludePad = false
		default:
			return value{}, false
		}
	default:
		return value{}, false
	}
	v.pend = expand(v.prePool, 1, v.shape)
	v.sumPool, v.prePool = -1, nil
	return v, true
}

// shapeIn is the shape of the (first) input of layer i.
func (im *importer) shapeIn(i int) network.Shape {
	if j := im.inputs[i][0]; j != network.InputNode {
		return im.shapes[j]
	}
	return im.input0
}
