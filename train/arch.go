package train

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/evsnn/evsnn/network"
)

// Architecture is the small JSON description of a network to train:
//
//	{"input": [1, 28, 28],
//	 "layers": [
//	   {"type": "conv2d", "out": 16, "kernel": 3, "padding": 1},
//	   {"type": "batchnorm"},
//	   {"type": "relu"},
//	   {"type": "maxpool2d", "kernel": 2},
//	   {"type": "residual", "out": 32, "stride": 2},
//	   {"type": "globalavgpool"},
//	   {"type": "flatten"},
//	   {"type": "linear", "out": 10}]}
//
// Input channels and input features are inferred from the layer before.
// Kernel, stride and padding are a number or an [h, w] pair; stride
// defaults to 1 for a convolution and a residual block and to the kernel
// for a pooling layer, padding to 0. Names default to conv1, bn1, relu1,
// pool1, maxpool1, gap, flatten, fc1, res1, ...; the layers of a residual
// block are named after it (res1.conv1, res1.bn1, ...).
type Architecture struct {
	Input  []int       `json:"input"`
	Layers []LayerSpec `json:"layers"`
}

// LayerSpec describes one layer of an Architecture.
type LayerSpec struct {
	// Type is conv2d (or conv), avgpool2d (or avgpool, pool), maxpool2d
	// (or maxpool), globalavgpool (or gap), batchnorm (or bn), residual
	// (or res), linear (or fc), relu or flatten.
	Type string `json:"type"`
	Name string `json:"name,omitempty"`
	// Out is the number of output channels (conv2d, residual) or features
	// (linear). A readout (the last linear) with Out 0 takes the class
	// count of the data (WithClasses).
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

// ReadArchitecture reads a JSON Architecture. Unknown fields and trailing
// data are errors; the layers are checked when the network is built.
func ReadArchitecture(data []byte) (Architecture, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var a Architecture
	if err := dec.Decode(&a); err != nil {
		return a, fmt.Errorf("architecture: %w", err)
	}
	if dec.More() {
		return a, fmt.Errorf("architecture: trailing data after the JSON object")
	}
	return a, nil
}

// ParseArchitecture reads a JSON Architecture and builds its network with
// weights drawn from seed (Build: no batchnorm or residual layers; see
// NewTrainer for those). Unknown fields, unknown layer types, missing or
// impossible sizes are errors naming the layer.
func ParseArchitecture(data []byte, seed uint64) (*network.Network, error) {
	a, err := ReadArchitecture(data)
	if err != nil {
		return nil, err
	}
	return Build(a, seed)
}

// ParseLayers reads the compact form of an architecture used by the
// --layers flag: comma-separated layers
//
//	conv<OUT>k<K>[s<S>][p<P>]   convolution, e.g. conv16k5p2
//	pool<K>[s<S>]               average pooling, e.g. pool2 (also avgpool2)
//	maxpool<K>[s<S>][p<P>]      max pooling, e.g. maxpool2, maxpool3s2p1
//	bn                          batch normalisation of the conv or fc before
//	res<OUT>[s<S>]              residual basic block, e.g. res16, res32s2
//	gap                         global average pooling ([C,H,W] → [C,1,1])
//	fc<OUT>                     linear, e.g. fc128; a bare fc as the last
//	                            layer takes the data's class count
//	relu, flatten
func ParseLayers(spec string, input []int) (Architecture, error) {
	a := Architecture{Input: append([]int(nil), input...)}
	items := strings.Split(spec, ",")
	for i, tok := range items {
		tok = strings.ToLower(strings.TrimSpace(tok))
		bad := func(why string) error {
			return fmt.Errorf("layers: item %d %q: %s (want conv<OUT>k<K>[s<S>][p<P>], pool<K>[s<S>], maxpool<K>[s<S>][p<P>], bn, res<OUT>[s<S>], gap, fc<OUT>, relu or flatten)", i+1, tok, why)
		}
		switch {
		case tok == "relu" || tok == "flatten":
			a.Layers = append(a.Layers, LayerSpec{Type: tok})
		case tok == "bn":
			a.Layers = append(a.Layers, LayerSpec{Type: "batchnorm"})
		case tok == "gap":
			a.Layers = append(a.Layers, LayerSpec{Type: "globalavgpool"})
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
		case strings.HasPrefix(tok, "maxpool"):
			v, err := letterInts(tok[len("maxpool"):], "sp")
			if err != nil {
				return a, bad(err.Error())
			}
			l := LayerSpec{Type: "maxpool2d", Kernel: &Pair{v[0], v[0]}}
			if s, ok := v['s']; ok {
				l.Stride = &Pair{s, s}
			}
			if p, ok := v['p']; ok {
				l.Padding = &Pair{p, p}
			}
			a.Layers = append(a.Layers, l)
		case strings.HasPrefix(tok, "pool") || strings.HasPrefix(tok, "avgpool"):
			v, err := letterInts(strings.TrimPrefix(strings.TrimPrefix(tok, "avg"), "pool"), "s")
			if err != nil {
				return a, bad(err.Error())
			}
			l := LayerSpec{Type: "avgpool2d", Kernel: &Pair{v[0], v[0]}}
			if s, ok := v['s']; ok {
				l.Stride = &Pair{s, s}
			}
			a.Layers = append(a.Layers, l)
		case strings.HasPrefix(tok, "res"):
			v, err := letterInts(tok[len("res"):], "s")
			if err != nil {
				return a, bad(err.Error())
			}
			l := LayerSpec{Type: "residual", Out: v[0]}
			if s, ok := v['s']; ok {
				l.Stride = &Pair{s, s}
			}
			a.Layers = append(a.Layers, l)
		case tok == "fc" && i == len(items)-1:
			a.Layers = append(a.Layers, LayerSpec{Type: "linear"})
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

// WithClasses returns a with the readout (the last layer, a linear) sized
// for classes classes where its size was left out (a bare "fc", or "out"
// 0 in JSON). A readout given with another size is an error.
func (a Architecture) WithClasses(classes int) (Architecture, error) {
	if len(a.Layers) == 0 {
		return a, fmt.Errorf("architecture: no layers")
	}
	last := a.Layers[len(a.Layers)-1]
	if canonicalType(last.Type) != "linear" {
		return a, fmt.Errorf("architecture: the last layer must be linear (the readout), not %s", last.Type)
	}
	switch {
	case classes < 2:
		return a, fmt.Errorf("architecture: %d classes: want at least 2", classes)
	case last.Out == 0:
		a.Layers = append([]LayerSpec(nil), a.Layers...)
		a.Layers[len(a.Layers)-1].Out = classes
	case last.Out != classes:
		return a, fmt.Errorf("architecture: the readout has %d outputs, the data has %d classes", last.Out, classes)
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

func canonicalType(t string) string {
	switch strings.ToLower(t) {
	case "conv2d", "conv":
		return "conv2d"
	case "avgpool2d", "avgpool", "pool":
		return "avgpool2d"
	case "maxpool2d", "maxpool":
		return "maxpool2d"
	case "globalavgpool", "gap", "globalaveragepool":
		return "globalavgpool"
	case "batchnorm", "bn", "batchnorm2d", "batchnorm1d":
		return "batchnorm"
	case "residual", "res":
		return "residual"
	case "linear", "fc", "dense":
		return "linear"
	case "relu":
		return "relu"
	case "flatten":
		return "flatten"
	}
	return ""
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
		case "avgpool2d", "maxpool2d":
			s = "pool" + ps(l.Kernel)
			if canonicalType(l.Type) == "maxpool2d" {
				s = "max" + s
			}
			if l.Stride != nil && *l.Stride != *l.Kernel {
				s += "s" + ps(l.Stride)
			}
			if l.Padding != nil && *l.Padding != (Pair{}) {
				s += "p" + ps(l.Padding)
			}
		case "batchnorm":
			s = "bn"
		case "globalavgpool":
			s = "gap"
		case "residual":
			s = fmt.Sprintf("res%d", l.Out)
			if l.Stride != nil && *l.Stride != (Pair{1, 1}) {
				s += "s" + ps(l.Stride)
			}
		case "linear":
			s = "fc"
			if l.Out != 0 {
				s += strconv.Itoa(l.Out)
			}
		default:
			s = l.Type
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ",")
}
