package train

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/evsnn/evsnn/network"
)

// Architecture is the small JSON description of a network to train:
//
//	{"input": [1, 28, 28],
//	 "layers": [
//	   {"type": "conv2d", "out": 16, "kernel": 5, "padding": 2},
//	   {"type": "relu"},
//	   {"type": "avgpool2d", "kernel": 2},
//	   {"type": "flatten"},
//	   {"type": "linear", "out": 10}]}
//
// Input channels and input features are inferred from the layer before.
// Kernel, stride and padding are a number or an [h, w] pair; stride
// defaults to 1 for a convolution and to the kernel for a pooling layer,
// padding to 0. Names default to conv1, relu1, pool1, flatten, fc1, ...
type Architecture struct {
	Input  []int       `json:"input"`
	Layers []LayerSpec `json:"layers"`
}

// LayerSpec describes one layer of an Architecture.
type LayerSpec struct {
	// Type is conv2d (or conv), avgpool2d (or avgpool, pool), linear (or
	// fc), relu or flatten.
	Type string `json:"type"`
	Name string `json:"name,omitempty"`
	// Out is the number of output channels (conv2d) or features (linear).
	Out     int   `json:"out,omitempty"`
	Kernel  *Pair `json:"kernel,omitempty"`
	Stride  *Pair `json:"stride,omitempty"`
	Padding *Pair `json:"padding,omitempty"`
}

// Pair is a height, width pair; in JSON a single number n means [n, n].
type Pair [2]int

// UnmarshalJSON accepts n or [h, w].
func (p *Pair) UnmarshalJSON(b []byte) error {
	var n int
	if err := json.Unmarshal(b, &n); err == nil {
		*p = Pair{n, n}
		return nil
	}
	var hw []int
	if err := json.Unmarshal(b, &hw); err != nil || len(hw) != 2 {
		return fmt.Errorf("%s is neither a number nor an [h, w] pair", b)
	}
	*p = Pair{hw[0], hw[1]}
	return nil
}

// MarshalJSON writes n when both values are equal, else [h, w].
func (p Pair) MarshalJSON() ([]byte, error) {
	if p[0] == p[1] {
		return json.Marshal(p[0])
	}
	return json.Marshal([]int(p[:]))
}

// DefaultArchitectureSpec is the fixture's LeNet-like network (SPEC §1):
// conv 1→16 5×5 pad 2, ReLU, avgpool 2, conv 16→32 5×5 pad 2, ReLU,
// avgpool 2, flatten, fc 1568→128, ReLU, fc 128→10.
const DefaultArchitectureSpec = "conv16k5p2,relu,pool2,conv32k5p2,relu,pool2,flatten,fc128,relu,fc10"

// DefaultArch returns the Architecture of DefaultArchitectureSpec on
// 1×28×28 inputs.
func DefaultArch() Architecture {
	a, err := ParseLayers(DefaultArchitectureSpec, []int{1, 28, 28})
	if err != nil {
		panic(err)
	}
	return a
}

// DefaultArchitecture returns the default network with fresh weights drawn
// from seed (see Build). Its layers are named conv1, relu1, pool1, conv2,
// relu2, pool2, flatten, fc1, relu3, fc2.
func DefaultArchitecture(seed uint64) *network.Network {
	net, err := Build(DefaultArch(), seed)
	if err != nil {
		panic(err)
	}
	return net
}

// ParseArchitecture reads a JSON Architecture and builds its network with
// weights drawn from seed. Unknown fields, unknown layer types, missing or
// impossible sizes are errors naming the layer.
func ParseArchitecture(data []byte, seed uint64) (*network.Network, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var a Architecture
	if err := dec.Decode(&a); err != nil {
		return nil, fmt.Errorf("architecture: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("architecture: trailing data after the JSON object")
	}
	return Build(a, seed)
}

// ParseLayers reads the compact form of an architecture used by the
// --layers flag: comma-separated layers
//
//	conv<OUT>k<K>[s<S>][p<P>]   convolution, e.g. conv16k5p2
//	pool<K>[s<S>]               average pooling, e.g. pool2
//	fc<OUT>                     linear, e.g. fc128
//	relu, flatten
func ParseLayers(spec string, input []int) (Architecture, error) {
	a := Architecture{Input: append([]int(nil), input...)}
	for i, tok := range strings.Split(spec, ",") {
		tok = strings.ToLower(strings.TrimSpace(tok))
		bad := func(why string) error {
			return fmt.Errorf("layers: item %d %q: %s (want conv<OUT>k<K>[s<S>][p<P>], pool<K>[s<S>], fc<OUT>, relu or flatten)", i+1, tok, why)
		}
		switch {
		case tok == "relu" || tok == "flatten":
			a.Layers = append(a.Layers, LayerSpec{Type: tok})
		case strings.HasPrefix(tok, "conv"):
			v, err := letterInts(tok[len("conv"):], "ksp")
			if err != nil {
				return a, bad(err.Error())
			}
			if _, ok := v['k']; !ok {
				return a, bad("no kernel size k")
			}
			l := LayerSpec{Type: "conv2d", Out: v[0], Kernel: &Pair{v['k'], v['k']}}
			if s, ok := v['s']; ok {
				l.Stride = &Pair{s, s}
			}
			if p, ok := v['p']; ok {
				l.Padding = &Pair{p, p}
			}
			a.Layers = append(a.Layers, l)
		case strings.HasPrefix(tok, "pool"):
			v, err := letterInts(tok[len("pool"):], "s")
			if err != nil {
				return a, bad(err.Error())
			}
			l := LayerSpec{Type: "avgpool2d", Kernel: &Pair{v[0], v[0]}}
			if s, ok := v['s']; ok {
				l.Stride = &Pair{s, s}
			}
			a.Layers = append(a.Layers, l)
		case strings.HasPrefix(tok, "fc"):
			n, err := strconv.Atoi(tok[len("fc"):])
			if err != nil {
				return a, bad("no output size")
			}
			a.Layers = append(a.Layers, LayerSpec{Type: "linear", Out: n})
		default:
			return a, bad("unknown layer")
		}
	}
	return a, nil
}

// letterInts parses "16k5s1p2" into {0:16, 'k':5, 's':1, 'p':2}; the leading
// number is required, the lettered ones are optional and must be in allowed.
func letterInts(s, allowed string) (map[rune]int, error) {
	out := map[rune]int{}
	key := rune(0)
	for len(s) > 0 {
		j := 0
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == 0 {
			return nil, fmt.Errorf("expected a number at %q", s)
		}
		n, err := strconv.Atoi(s[:j])
		if err != nil {
			return nil, err
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("%c given twice", key)
		}
		out[key] = n
		s = s[j:]
		if len(s) == 0 {
			break
		}
		key = rune(s[0])
		if !strings.ContainsRune(allowed, key) {
			return nil, fmt.Errorf("unexpected %q", s[0])
		}
		s = s[1:]
		if len(s) == 0 {
			return nil, fmt.Errorf("%c without a number", key)
		}
	}
	if _, ok := out[0]; !ok {
		return nil, fmt.Errorf("no size")
	}
	return out, nil
}

// Build makes the network an Architecture describes, checks it, and draws
// its weights from seed the way PyTorch initialises Conv2d and Linear:
// weights and biases uniform in ±1/sqrt(fan_in) (kaiming_uniform_ with
// a = √5), layer by layer, weight before bias, from a PCG generator seeded
// with seed.
func Build(a Architecture, seed uint64) (*network.Network, error) {
	if len(a.Input) == 0 {
		return nil, fmt.Errorf("architecture: no input shape (want e.g. \"input\": [1, 28, 28])")
	}
	if len(a.Layers) == 0 {
		return nil, fmt.Errorf("architecture: no layers")
	}
	net := &network.Network{Input: network.Shape(append([]int(nil), a.Input...))}
	if err := net.Input.Valid(); err != nil {
		return nil, fmt.Errorf("architecture: input: %w", err)
	}
	counts := map[string]int{}
	nflatten := 0
	for _, l := range a.Layers {
		if canonicalType(l.Type) == "flatten" {
			nflatten++
		}
	}
	in := net.Input
	for i, ls := range a.Layers {
		typ := canonicalType(ls.Type)
		name := ls.Name
		prefix := map[string]string{"conv2d": "conv", "avgpool2d": "pool", "linear": "fc", "relu": "relu", "flatten": "flatten"}[typ]
		if typ != "" {
			counts[prefix]++
			if name == "" {
				name = prefix + strconv.Itoa(counts[prefix])
				if typ == "flatten" && nflatten == 1 {
					name = "flatten"
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
			c := &network.Conv2d{LayerName: name, InC: in[0], OutC: ls.Out, KH: k[0], KW: k[1],
				StrideH: s[0], StrideW: s[1], PadH: p[0], PadW: p[1]}
			if c.InC*c.KH*c.KW > network.MaxElements/c.OutC {
				return nil, fmt.Errorf("%s: conv2d weight too large", where)
			}
			c.Weight = make([]float32, c.OutC*c.InC*c.KH*c.KW)
			c.Bias = make([]float32, c.OutC)
			layer = c
		case "avgpool2d":
			if ls.Out != 0 || ls.Padding != nil {
				return nil, fmt.Errorf("%s: avgpool2d takes only \"kernel\" and \"stride\"", where)
			}
			if ls.Kernel == nil {
				return nil, fmt.Errorf("%s: avgpool2d needs a \"kernel\" size", where)
			}
			k, err := pair(ls.Kernel, Pair{}, "kernel", 1)
			if err != nil {
				return nil, err
			}
			s, err := pair(ls.Stride, k, "stride", 1)
			if err != nil {
				return nil, err
			}
			layer = &network.AvgPool2d{LayerName: name, KH: k[0], KW: k[1], StrideH: s[0], StrideW: s[1]}
		case "linear":
			if ls.Kernel != nil || ls.Stride != nil || ls.Padding != nil {
				return nil, fmt.Errorf("%s: linear takes only \"out\"", where)
			}
			if len(in) != 1 {
				return nil, fmt.Errorf("%s: linear needs a vector input, got %v (add a flatten before it)", where, in)
			}
			if ls.Out <= 0 {
				return nil, fmt.Errorf("%s: linear needs \"out\" > 0 output features", where)
			}
			if in[0] > network.MaxElements/ls.Out {
				return nil, fmt.Errorf("%s: linear weight too large", where)
			}
			layer = &network.Linear{LayerName: name, In: in[0], Out: ls.Out,
				Weight: make([]float32, in[0]*ls.Out), Bias: make([]float32, ls.Out)}
		case "relu", "flatten":
			if ls.Out != 0 || ls.Kernel != nil || ls.Stride != nil || ls.Padding != nil {
				return nil, fmt.Errorf("%s: %s takes no parameters", where, typ)
			}
			if typ == "relu" {
				layer = &network.ReLU{LayerName: name}
			} else {
				layer = &network.Flatten{LayerName: name}
			}
		default:
			return nil, fmt.Errorf("%s: unknown type %q (want conv2d, avgpool2d, linear, relu or flatten)", where, ls.Type)
		}
		out, err := layer.OutShape(in)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		net.Layers = append(net.Layers, layer)
		in = out
	}
	if _, ok := net.Layers[len(net.Layers)-1].(*network.Linear); !ok {
		return nil, fmt.Errorf("architecture: the last layer must be linear (the readout), not %s", net.Layers[len(net.Layers)-1].Kind())
	}
	if len(in) != 1 || in[0] < 2 {
		return nil, fmt.Errorf("architecture: the readout has %v outputs, want at least 2 classes", in)
	}
	if err := net.Validate(); err != nil {
		return nil, fmt.Errorf("architecture: %w", err)
	}
	Init(net, seed)
	return net, nil
}

func canonicalType(t string) string {
	switch strings.ToLower(t) {
	case "conv2d", "conv":
		return "conv2d"
	case "avgpool2d", "avgpool", "pool":
		return "avgpool2d"
	case "linear", "fc", "dense":
		return "linear"
	case "relu":
		return "relu"
	case "flatten":
		return "flatten"
	}
	return ""
}

// Init draws every Conv2d and Linear weight and bias uniformly from
// ±1/sqrt(fan_in), as PyTorch's default initialisation does, from a PCG
// generator seeded with seed. The same seed gives the same weights.
func Init(net *network.Network, seed uint64) {
	r := rand.New(rand.NewPCG(seed, streamInit))
	fill := func(s []float32, bound float64) {
		for i := range s {
			s[i] = float32((2*r.Float64() - 1) * bound)
		}
	}
	for _, l := range net.Layers {
		switch l := l.(type) {
		case *network.Conv2d:
			b := 1 / math.Sqrt(float64(l.InC*l.KH*l.KW))
			fill(l.Weight, b)
			fill(l.Bias, b)
		case *network.Linear:
			b := 1 / math.Sqrt(float64(l.In))
			fill(l.Weight, b)
			fill(l.Bias, b)
		}
	}
}

// PCG streams: the second PCG seed word keeps the generators for different
// purposes independent for the same user seed.
const (
	streamInit    = 0x696e6974 // "init"
	streamShuffle = 0x73687566 // "shuf"
)

// Describe returns the Architecture of an ANN made of the layer types
// training supports, so that Build(Describe(net), seed) has the same shape.
func Describe(net *network.Network) (Architecture, error) {
	a := Architecture{Input: append([]int(nil), net.Input...)}
	for i, l := range net.Layers {
		var s LayerSpec
		switch l := l.(type) {
		case *network.Conv2d:
			s = LayerSpec{Type: "conv2d", Out: l.OutC, Kernel: &Pair{l.KH, l.KW},
				Stride: &Pair{l.StrideH, l.StrideW}, Padding: &Pair{l.PadH, l.PadW}}
		case *network.AvgPool2d:
			s = LayerSpec{Type: "avgpool2d", Kernel: &Pair{l.KH, l.KW}, Stride: &Pair{l.StrideH, l.StrideW}}
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

// LayerList writes an architecture in the compact form ParseLayers reads
// (non-square sizes as HxW, which ParseLayers does not read back).
func LayerList(a Architecture) string {
	ps := func(p *Pair) string {
		if p[0] == p[1] {
			return strconv.Itoa(p[0])
		}
		return fmt.Sprintf("%dx%d", p[0], p[1])
	}
	var parts []string
	for _, l := range a.Layers {
		var s string
		switch canonicalType(l.Type) {
		case "conv2d":
			s = fmt.Sprintf("conv%dk%s", l.Out, ps(l.Kernel))
			if l.Stride != nil && *l.Stride != (Pair{1, 1}) {
				s += "s" + ps(l.Stride)
			}
			if l.Padding != nil && *l.Padding != (Pair{}) {
				s += "p" + ps(l.Padding)
			}
		case "avgpool2d":
			s = "pool" + ps(l.Kernel)
			if l.Stride != nil && *l.Stride != *l.Kernel {
				s += "s" + ps(l.Stride)
			}
		case "linear":
			s = fmt.Sprintf("fc%d", l.Out)
		default:
			s = l.Type
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ",")
}
