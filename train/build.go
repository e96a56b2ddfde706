package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/evsnn/evsnn/network"
)

// Build makes the network an Architecture describes, checks it, and draws
// its weights from seed the way PyTorch initialises Conv2d and Linear (see
// Init). An architecture with batchnorm or residual layers has no
// network.Network before training folds its BatchNorms away: Build refuses
// it, NewTrainer trains it.
func Build(a Architecture, seed uint64) (*network.Network, error) {
	g, err := buildGraph(a)
	if err != nil {
		return nil, err
	}
	for i, l := range g.Layers {
		if _, ok := l.(*batchNorm); ok {
			return nil, fmt.Errorf("architecture: layer %d (%s) is a batchnorm, which only exists while training (it is folded into the layer before it): use train.NewTrainer", i, l.Name())
		}
	}
	Init(g, seed)
	return g, nil
}

// buildGraph makes the training graph of an Architecture: the layers of
// package network and batchNorm nodes, with zero weights, γ = 1, β = 0 and
// running statistics 0 and 1. It checks that the network it exports (the
// BatchNorms folded) passes network.Validate. A chain comes back with
// Inputs == nil.
func buildGraph(a Architecture) (*network.Network, error) {
	if len(a.Input) == 0 {
		return nil, fmt.Errorf("architecture: no input shape (want e.g. \"input\": [1, 28, 28])")
	}
	if len(a.Layers) == 0 {
		return nil, fmt.Errorf("architecture: no layers")
	}
	g := &network.Network{Input: network.Shape(append([]int(nil), a.Input...))}
	if err := g.Input.Valid(); err != nil {
		return nil, fmt.Errorf("architecture: input: %w", err)
	}
	prefixes := map[string]string{"conv2d": "conv", "avgpool2d": "pool", "maxpool2d": "maxpool", "globalavgpool": "gap",
		"batchnorm": "bn", "residual": "res", "linear": "fc", "relu": "relu", "flatten": "flatten"}
	total := map[string]int{}
	for _, l := range a.Layers {
		total[canonicalType(l.Type)]++
	}
	counts := map[string]int{}
	var shapes []network.Shape
	cur := network.InputNode
	shape := func(j int) network.Shape {
		if j == network.InputNode {
			return g.Input
		}
		return shapes[j]
	}
	// add appends a node reading inputs and returns its index.
	add := func(where string, l network.Layer, inputs ...int) (int, error) {
		in := shape(inputs[0])
		for _, j := range inputs[1:] {
			if !shape(j).Equal(in) {
				return 0, fmt.Errorf("%s: adds shapes %v and %v", where, in, shape(j))
			}
		}
		out, err := l.OutShape(in)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", where, err)
		}
		if err := out.Valid(); err != nil {
			return 0, fmt.Errorf("%s: output %w", where, err)
		}
		g.Layers = append(g.Layers, l)
		g.Inputs = append(g.Inputs, inputs)
		shapes = append(shapes, out)
		return len(g.Layers) - 1, nil
	}
	for i, ls := range a.Layers {
		typ := canonicalType(ls.Type)
		name := ls.Name
		if typ != "" {
			prefix := prefixes[typ]
			counts[prefix]++
			if name == "" {
				name = prefix + strconv.Itoa(counts[prefix])
				if (typ == "flatten" || typ == "globalavgpool") && total[typ] == 1 {
					name = prefix
				}
			}
		}
		where := fmt.Sprintf("architecture: layer %d (%s)", i+1, name)
		if name == "" {
			where = fmt.Sprintf("architecture: layer %d", i+1)
		}
		pair := func(p *Pair, def Pair, what string, minv int) (Pair, error) {
			v := def
			if p != nil {
				v = *p
			}
			if v[0] < minv || v[1] < minv {
				return v, fmt.Errorf("%s: %s %v must be at least %d", where, what, []int(v[:]), minv)
			}
			return v, nil
		}
		only := func(what string, ok bool) error {
			if !ok {
				return fmt.Errorf("%s: %s takes only %s", where, typ, what)
			}
			return nil
		}
		in := shape(cur)
		var layer network.Layer
		switch typ {
		case "conv2d":
			if len(in) != 3 {
				return nil, fmt.Errorf("%s: conv2d needs a [C,H,W] input, got %v", where, in)
			}
			if ls.Out <= 0 {
				return nil, fmt.Errorf("%s: conv2d needs \"out\" > 0 output channels", where)
			}
			if ls.Kernel == nil {
				return nil, fmt.Errorf("%s: conv2d needs a \"kernel\" size", where)
			}
			k, err := pair(ls.Kernel, Pair{}, "kernel", 1)
			if err != nil {
				return nil, err
			}
			s, err := pair(ls.Stride, Pair{1, 1}, "stride", 1)
			if err != nil {
				return nil, err
			}
			p, err := pair(ls.Padding, Pair{0, 0}, "padding", 0)
			if err != nil {
				return nil, err
			}
			c, err := newConv(where, name, in[0], ls.Out, k, s, p)
			if err != nil {
				return nil, err
			}
			layer = c
		case "avgpool2d", "maxpool2d":
			if err := only("\"kernel\", \"stride\" and, for maxpool2d, \"padding\"", ls.Out == 0 && (ls.Padding == nil || typ == "maxpool2d")); err != nil {
				return nil, err
			}
			if ls.Kernel == nil {
				return nil, fmt.Errorf("%s: %s needs a \"kernel\" size", where, typ)
			}
			k, err := pair(ls.Kernel, Pair{}, "kernel", 1)
			if err != nil {
				return nil, err
			}
			s, err := pair(ls.Stride, k, "stride", 1)
			if err != nil {
				return nil, err
			}
			p, err := pair(ls.Padding, Pair{0, 0}, "padding", 0)
			if err != nil {
				return nil, err
			}
			if typ == "avgpool2d" {
				layer = &network.AvgPool2d{LayerName: name, KH: k[0], KW: k[1], StrideH: s[0], StrideW: s[1]}
			} else {
				layer = &network.MaxPool2d{LayerName: name, KH: k[0], KW: k[1], StrideH: s[0], StrideW: s[1], PadH: p[0], PadW: p[1]}
			}
		case "linear":
			if err := only("\"out\"", ls.Kernel == nil && ls.Stride == nil && ls.Padding == nil); err != nil {
				return nil, err
			}
			if len(in) != 1 {
				return nil, fmt.Errorf("%s: linear needs a vector input, got %v (add a flatten before it)", where, in)
			}
			if ls.Out < 0 || ls.Out == 0 && i != len(a.Layers)-1 {
				return nil, fmt.Errorf("%s: linear needs \"out\" > 0 output features", where)
			}
			if ls.Out == 0 {
				return nil, fmt.Errorf("%s: the readout has no size: give fc<N>, or the data's class count (Architecture.WithClasses)", where)
			}
			if in[0] > network.MaxElements/ls.Out {
				return nil, fmt.Errorf("%s: linear weight too large", where)
			}
			layer = &network.Linear{LayerName: name, In: in[0], Out: ls.Out,
				Weight: make([]float32, in[0]*ls.Out), Bias: make([]float32, ls.Out)}
		case "relu", "flatten", "globalavgpool", "batchnorm":
			if ls.Out != 0 || ls.Kernel != nil || ls.Stride != nil || ls.Padding != nil {
				return nil, fmt.Errorf("%s: %s takes no parameters", where, typ)
			}
			switch typ {
			case "relu":
				layer = &network.ReLU{LayerName: name}
			case "flatten":
				layer = &network.Flatten{LayerName: name}
			case "globalavgpool":
				layer = &network.GlobalAvgPool{LayerName: name}
			case "batchnorm":
				if cur == network.InputNode || i == 0 || !weighted(g.Layers[cur]) || canonicalType(a.Layers[i-1].Type) == "residual" {
					return nil, fmt.Errorf("%s: a batchnorm must come right after a conv2d or linear (it is folded into it)", where)
				}
				layer = newBatchNorm(name, in[0])
			}
		case "residual":
			if err := only("\"out\" and \"stride\"", ls.Kernel == nil && ls.Padding == nil); err != nil {
				return nil, err
			}
			if len(in) != 3 {
				return nil, fmt.Errorf("%s: a residual block needs a [C,H,W] input, got %v", where, in)
			}
			if ls.Out <= 0 {
				return nil, fmt.Errorf("%s: residual needs \"out\" > 0 output channels", where)
			}
			s, err := pair(ls.Stride, Pair{1, 1}, "stride", 1)
			if err != nil {
				return nil, err
			}
			last, err := addResidual(where, name, cur, in, ls.Out, s, add)
			if err != nil {
				return nil, err
			}
			cur = last
			continue
		default:
			return nil, fmt.Errorf("%s: unknown type %q (want conv2d, avgpool2d, maxpool2d, globalavgpool, batchnorm, residual, linear, relu or flatten)", where, ls.Type)
		}
		j, err := add(where, layer, cur)
		if err != nil {
			return nil, err
		}
		cur = j
	}
	if _, ok := g.Layers[len(g.Layers)-1].(*network.Linear); !ok {
		return nil, fmt.Errorf("architecture: the last layer must be linear (the readout), not %s", g.Layers[len(g.Layers)-1].Kind())
	}
	if out := shapes[len(shapes)-1]; len(out) != 1 || out[0] < 2 {
		return nil, fmt.Errorf("architecture: the readout has %v outputs, want at least 2 classes", out)
	}
	g.Compact()
	// The placement rules are those of the exported network.
	if err := exportGraph(g).Validate(); err != nil {
		return nil, fmt.Errorf("architecture: %w", err)
	}
	return g, nil
}

func newConv(where, name string, inC, outC int, k, s, p Pair) (*network.Conv2d, error) {
	c := &network.Conv2d{LayerName: name, InC: inC, OutC: outC, KH: k[0], KW: k[1],
		StrideH: s[0], StrideW: s[1], PadH: p[0], PadW: p[1]}
	if c.InC*c.KH*c.KW > network.MaxElements/c.OutC {
		return nil, fmt.Errorf("%s: conv2d weight too large", where)
	}
	c.Weight = make([]float32, c.OutC*c.InC*c.KH*c.KW)
	c.Bias = make([]float32, c.OutC)
	return c, nil
}

// addResidual appends a post-activation basic block reading node in of
// shape sh: conv3×3(stride s)-bn-relu-conv3×3-bn, plus the shortcut
// (identity, or conv1×1(stride s)-bn when the shape changes), added, then
// relu. It returns the index of the final ReLU.
func addResidual(where, name string, in int, sh network.Shape, out int, s Pair,
	add func(string, network.Layer, ...int) (int, error)) (int, error) {
	var err error
	step := func(l network.Layer, inputs ...int) int {
		if err != nil {
			return 0
		}
		var j int
		j, err = add(where, l, inputs...)
		return j
	}
	conv := func(suffix string, inC, k, pad int, stride Pair, from int) int {
		if err != nil {
			return 0
		}
		var c *network.Conv2d
		c, err = newConv(where, name+"."+suffix, inC, out, Pair{k, k}, stride, Pair{pad, pad})
		if err != nil {
			return 0
		}
		return step(c, from)
	}
	c1 := conv("conv1", sh[0], 3, 1, s, in)
	b1 := step(newBatchNorm(name+".bn1", out), c1)
	r1 := step(&network.ReLU{LayerName: name + ".relu1"}, b1)
	c2 := conv("conv2", out, 3, 1, Pair{1, 1}, r1)
	b2 := step(newBatchNorm(name+".bn2", out), c2)
	short := in
	if sh[0] != out || s != (Pair{1, 1}) {
		d := conv("down", sh[0], 1, 0, s, in)
		short = step(newBatchNorm(name+".downbn", out), d)
	}
	sum := step(&network.Add{LayerName: name + ".add"}, b2, short)
	r2 := step(&network.ReLU{LayerName: name + ".relu2"}, sum)
	return r2, err
}

func weighted(l network.Layer) bool {
	switch l.(type) {
	case *network.Conv2d, *network.Linear:
		return true
	}
	return false
}

// biasFree reports whether layer i of g is a Conv2d or Linear whose one
// consumer is a BatchNorm: like PyTorch's bias=False before a BatchNorm,
// it has no bias parameter (the BatchNorm's β is the bias).
func biasFree(g *network.Network, cons [][]int, i int) bool {
	if !weighted(g.Layers[i]) || len(cons[i]) != 1 {
		return false
	}
	_, ok := g.Layers[cons[i][0]].(*batchNorm)
	return ok
}

// Init draws every Conv2d and Linear weight and bias uniformly from
// ±1/sqrt(fan_in), as PyTorch's default initialisation does
// (kaiming_uniform_ with a = √5), layer by layer, weight before bias,
// from a PCG generator seeded with seed. The same seed gives the same
// weights. A layer followed by a BatchNorm has no bias (it stays 0, and
// nothing is drawn for it); BatchNorms start at γ = 1, β = 0.
func Init(net *network.Network, seed uint64) {
	r := rand.New(rand.NewPCG(seed, streamInit))
	fill := func(s []float32, bound float64) {
		for i := range s {
			s[i] = float32((2*r.Float64() - 1) * bound)
		}
	}
	cons := net.Consumers()
	for i, l := range net.Layers {
		var w, b []float32
		var fanIn int
		switch l := l.(type) {
		case *network.Conv2d:
			w, b, fanIn = l.Weight, l.Bias, l.InC*l.KH*l.KW
		case *network.Linear:
			w, b, fanIn = l.Weight, l.Bias, l.In
		case *batchNorm:
			for c := range l.Gamma {
				l.Gamma[c], l.Beta[c] = 1, 0
			}
			continue
		default:
			continue
		}
		bound := 1 / math.Sqrt(float64(fanIn))
		fill(w, bound)
		if biasFree(net, cons, i) {
			clear(b)
		} else {
			fill(b, bound)
		}
	}
}

// PCG streams: the second PCG seed word keeps the generators for different
// purposes independent for the same user seed.
const (
	streamInit    = 0x696e6974 // "init"
	streamShuffle = 0x73687566 // "shuf"
)

// Describe returns the Architecture of a chain ANN made of the layer
// types training supports, so that Build(Describe(net), seed) has the same
// shape. Graphs (residual networks) are not described: their Architecture
// is the one they were built from (Trainer.Architecture).
func Describe(net *network.Network) (Architecture, error) {
	a := Architecture{Input: append([]int(nil), net.Input...)}
	if !net.IsChain() {
		return a, fmt.Errorf("the network is a graph, not a chain: only the Architecture it was built from describes it")
	}
	for i, l := range net.Layers {
		var s LayerSpec
		switch l := l.(type) {
		case *network.Conv2d:
			s = LayerSpec{Type: "conv2d", Out: l.OutC, Kernel: &Pair{l.KH, l.KW},
				Stride: &Pair{l.StrideH, l.StrideW}, Padding: &Pair{l.PadH, l.PadW}}
		case *network.AvgPool2d:
			if l.PadH != 0 || l.PadW != 0 {
				return a, fmt.Errorf("layer %d (avgpool2d %q): training does not support a padded average pool", i, l.Name())
			}
			s = LayerSpec{Type: "avgpool2d", Kernel: &Pair{l.KH, l.KW}, Stride: &Pair{l.StrideH, l.StrideW}}
		case *network.MaxPool2d:
			s = LayerSpec{Type: "maxpool2d", Kernel: &Pair{l.KH, l.KW}, Stride: &Pair{l.StrideH, l.StrideW}, Padding: &Pair{l.PadH, l.PadW}}
		case *network.GlobalAvgPool:
			s = LayerSpec{Type: "globalavgpool"}
		case *network.Linear:
			s = LayerSpec{Type: "linear", Out: l.Out}
		case *network.ReLU:
			s = LayerSpec{Type: "relu"}
		case *network.Flatten:
			s = LayerSpec{Type: "flatten"}
		default:
			return a, fmt.Errorf("layer %d (%s %q): training does not support this layer type", i, l.Kind(), l.Name())
		}
		s.Name = l.Name()
		a.Layers = append(a.Layers, s)
	}
	return a, nil
}
