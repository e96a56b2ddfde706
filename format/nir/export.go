package nir

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/evsnn/evsnn/network"
)

// Metadata keys evsnn writes. Other tools ignore them; ToNetwork uses them
// to restore what NIR cannot express, so that an evsnn network survives the
// round trip bit for bit.
const (
	// Graph level.
	MetaGenerator = "evsnn.generator" // "evsnn"
	MetaNetwork   = "evsnn.meta"      // network.Metadata as JSON
	MetaDT        = "dt"              // the time step the neuron parameters assume (float64)

	// Node level.
	MetaName       = "evsnn.name"        // the evsnn layer name, when it differs from the node name
	MetaRole       = "evsnn.role"        // RoleAmplitude or RoleSumPool on Scale nodes evsnn wrote
	MetaAlpha      = "evsnn.alpha"       // the exact leak factor α (float32)
	MetaReset      = "evsnn.reset"       // "soft" or "hard"
	MetaV0Fraction = "evsnn.v0_fraction" // v(0) = fraction·θ (float32)
	MetaThreshold  = "evsnn.threshold"   // θ as evsnn holds it: one value or one per channel
	MetaV0         = "evsnn.v0"          // the per-neuron initial potential correction, if any
)

// Roles of the Scale nodes evsnn writes.
const (
	RoleAmplitude = "spike_amplitude" // after a neuron node: an evsnn spike carries θ
	RoleSumPool   = "sumpool_scale"   // after a SumPool2d: 1/(kh·kw) makes it an average
)

// ExportOptions tune FromNetworkWith.
type ExportOptions struct {
	// DT is the time step the continuous-time NIR neuron parameters are
	// written for (0 means 1): LIF tau = DT/(1-α), r = tau/DT; IF r = 1/DT.
	DT float64
	// SumPool writes every AvgPool2d as a SumPool2d followed by a Scale of
	// 1/(kh·kw): fewer NIR tools read AvgPool2d. Lossless on import when
	// kh·kw is a power of two; otherwise the weights after the pool may
	// differ in the last bit.
	SumPool bool
}

// FromNetwork converts a converted (spiking) evsnn network into a NIR graph
// with the default options (dt = 1, AvgPool2d as AvgPool2d).
func FromNetwork(net *network.Network) (*Graph, error) {
	return FromNetworkWith(net, ExportOptions{})
}

// FromNetworkWith converts a converted evsnn network into a NIR graph: an
// Input node, one node per layer (plus a Scale node after every neuron
// node), an Output node, and edges along the chain. See the package
// documentation for the mapping. An ANN (ReLU layers) is refused: convert
// it first.
func FromNetworkWith(net *network.Network, opt ExportOptions) (*Graph, error) {
	if net == nil {
		return nil, fmt.Errorf("no network")
	}
	dt := opt.DT
	if dt == 0 {
		dt = 1
	}
	if !(dt > 0) || math.IsInf(dt, 0) {
		return nil, fmt.Errorf("time step dt = %v: must be positive and finite", dt)
	}
	for i, l := range net.Layers {
		if l.Kind() == network.KindReLU {
			return nil, fmt.Errorf("layer %d (relu %q): NIR has no ReLU; this is an ANN: convert it to an SNN first (evsnn convert)", i, l.Name())
		}
	}
	if err := net.Validate(); err != nil {
		return nil, err
	}
	shapes, err := net.Shapes()
	if err != nil {
		return nil, err
	}
	g := NewGraph()
	g.Metadata[MetaGenerator] = Str("evsnn")
	g.Metadata[MetaDT] = F64Scalar(dt)
	meta, err := json.Marshal(net.Meta)
	if err != nil {
		return nil, fmt.Errorf("network metadata: %w", err)
	}
	g.Metadata[MetaNetwork] = Str(string(meta))

	names := nodeNames(net)
	prev := "input"
	add := func(name string, n *Node) error {
		if err := g.Add(name, n); err != nil {
			return err
		}
		g.Connect(prev, name)
		prev = name
		return nil
	}
	if err := g.Add("input", &Node{Type: "Input", Params: map[string]Param{"shape": I64Array(net.Input...)}}); err != nil {
		return nil, err
	}
	in := net.Input
	for i, l := range net.Layers {
		name := names[i]
		var n *Node
		switch l := l.(type) {
		case *network.Conv2d:
			n = &Node{Type: "Conv2d", Params: map[string]Param{
				"weight":      F32Array([]int{l.OutC, l.InC, l.KH, l.KW}, clone32(l.Weight)),
				"bias":        F32Array([]int{l.OutC}, clone32(l.Bias)),
				"stride":      I64Array(l.StrideH, l.StrideW),
				"padding":     I64Array(l.PadH, l.PadW),
				"dilation":    I64Array(1, 1),
				"groups":      I64Scalar(1),
				"input_shape": I64Array(in[1], in[2]),
			}}
		case *network.Linear:
			n = &Node{Type: "Affine", Params: map[string]Param{
				"weight": F32Array([]int{l.Out, l.In}, clone32(l.Weight)),
				"bias":   F32Array([]int{l.Out}, clone32(l.Bias)),
			}}
			if allPositiveZero(l.Bias) {
				n = &Node{Type: "Linear", Params: map[string]Param{"weight": n.Params["weight"]}}
			}
		case *network.AvgPool2d:
			typ := "AvgPool2d"
			if opt.SumPool {
				typ = "SumPool2d"
			}
			n = &Node{Type: typ, Params: map[string]Param{
				"kernel_size": I64Array(l.KH, l.KW),
				"stride":      I64Array(l.StrideH, l.StrideW),
				"padding":     I64Array(0, 0),
			}}
		case *network.Flatten:
			n = &Node{Type: "Flatten", Params: map[string]Param{
				"start_dim":  I64Scalar(0),
				"end_dim":    I64Scalar(-1),
				"input_type": I64Array(in...),
			}}
		case *network.Spiking:
			n = neuronNode(l, shapes[i], dt)
		default:
			return nil, fmt.Errorf("layer %d (%s %q): no NIR equivalent", i, l.Kind(), l.Name())
		}
		if l.Name() != name {
			setMeta(n, MetaName, Str(l.Name()))
		}
		if err := add(name, n); err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
		switch l := l.(type) {
		case *network.Spiking:
			// An evsnn spike carries amplitude θ into the next layer
			// (SPEC §2); a NIR spike is 1. The Scale node says so.
			amp := &Node{Type: "Scale", Params: map[string]Param{
				"scale": F32Array(shapes[i], expandThreshold(l, shapes[i])),
			}}
			setMeta(amp, MetaRole, Str(RoleAmplitude))
			if err := add(uniqueName(g, name+"_amplitude"), amp); err != nil {
				return nil, err
			}
		case *network.AvgPool2d:
			if opt.SumPool {
				k := float32(1) / float32(l.KH*l.KW)
				sc := make([]float32, shapes[i].Size())
				for j := range sc {
					sc[j] = k
				}
				s := &Node{Type: "Scale", Params: map[string]Param{"scale": F32Array(shapes[i], sc)}}
				setMeta(s, MetaRole, Str(RoleSumPool))
				if err := add(uniqueName(g, name+"_scale"), s); err != nil {
					return nil, err
				}
			}
		}
		in = shapes[i]
	}
	if err := add(uniqueName(g, "output"), &Node{Type: "Output", Params: map[string]Param{"shape": I64Array(in...)}}); err != nil {
		return nil, err
	}
	return g, nil
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
