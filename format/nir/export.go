package nir

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"

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
	MetaRole       = "evsnn.role"        // RoleAmplitude, RoleSumPool or RoleAddBias on nodes evsnn adds
	MetaAlpha      = "evsnn.alpha"       // the exact leak factor α (float32)
	MetaReset      = "evsnn.reset"       // "soft" or "hard"
	MetaV0Fraction = "evsnn.v0_fraction" // v(0) = fraction·θ (float32)
	MetaThreshold  = "evsnn.threshold"   // θ as evsnn holds it: one value or one per channel
	MetaV0         = "evsnn.v0"          // the per-neuron initial potential correction, if any

	// Graph nodes.
	MetaAdd             = "evsnn.add"               // on a neuron node after an Add: the Add's name
	MetaBias            = "evsnn.bias"              // on the weighted node that holds an Add's bias: its own bias
	MetaAddBias         = "evsnn.add_bias"          // ... and the Add's bias, folded into the node's bias
	MetaLayer           = "evsnn.layer"             // "globalavgpool" on the pool node of a GlobalAvgPool; "sparselinear" on the Affine of a SparseLinear
	MetaSynapses        = "evsnn.synapses"          // on the Affine of a SparseLinear: the synapses it had (int64)
	MetaCountIncludePad = "evsnn.count_include_pad" // 1 on an unpadded AvgPool2d whose CountIncludePad is set
)

// Roles of the nodes evsnn adds.
const (
	RoleAmplitude = "spike_amplitude" // a Scale after a neuron node: an evsnn spike carries θ
	RoleSumPool   = "sumpool_scale"   // a Scale after a SumPool2d: 1/divisor makes it an average
	RoleAddBias   = "add_bias"        // an identity Affine or 1×1 Conv2d holding the bias of an Add with no weighted branch
)

// ExportOptions tune FromNetworkWith.
type ExportOptions struct {
	// DT is the time step the continuous-time NIR neuron parameters are
	// written for (0 means 1): LIF tau = DT/(1-α), r = tau/DT; IF r = 1/DT.
	DT float64
	// SumPool writes every AvgPool2d (and GlobalAvgPool) as a SumPool2d
	// followed by a Scale of 1/(kh·kw): fewer NIR tools read AvgPool2d.
	// Padded average pools are always written so. Lossless on import.
	SumPool bool
}

// FromNetwork converts a converted (spiking) evsnn network into a NIR graph
// with the default options (dt = 1, AvgPool2d as AvgPool2d).
func FromNetwork(net *network.Network) (*Graph, error) {
	return FromNetworkWith(net, ExportOptions{})
}

// FromNetworkWith converts a converted evsnn network into a NIR graph: an
// Input node, nodes for the layers (see the package documentation for the
// mapping), an Output node, and edges along the network's graph: an Add
// becomes the edges of its branches into the neuron node after it. An ANN
// (ReLU layers) is refused: convert it first. A MaxPool2d is refused:
// NIR has nothing that means evsnn's count-gated spiking max. A
// SparseLinear is written as a dense Affine (zeros where it has no
// synapse), with a line in Graph.Notes saying so.
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
		switch l.(type) {
		case *network.ReLU:
			return nil, fmt.Errorf("layer %d (relu %q): NIR has no ReLU; this is an ANN: convert it to an SNN first (evsnn convert)", i, l.Name())
		case *network.MaxPool2d:
			return nil, fmt.Errorf("layer %d (maxpool2d %q): NIR has no max pooling, and no NIR node computes evsnn's count-gated spiking max; use average pooling to export to NIR", i, l.Name())
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
	if err := g.Add("input", &Node{Type: "Input", Params: map[string]Param{"shape": I64Array(net.Input...)}}); err != nil {
		return nil, err
	}
	ex := &exporter{net: net, shapes: shapes, g: g, opt: opt, dt: dt, names: nodeNames(net),
		outs: make([][]string, len(net.Layers)), biasOf: map[int]int{}}
	// Each Add's bias goes into the bias of its first weighted branch;
	// without one, into an identity node (see add).
	for i, l := range net.Layers {
		if a, ok := l.(*network.Add); ok && a.Bias != nil {
			for _, j := range net.InputsOf(i) {
				if j != network.InputNode && network.RoleOf(net.Layers[j]) == network.RoleWeighted {
					ex.biasOf[j] = i
					break
				}
			}
		}
	}
	for i := range net.Layers {
		if err := ex.layer(i); err != nil {
			return nil, err
		}
	}
	last := len(net.Layers) - 1
	out := uniqueName(g, "output")
	if err := g.Add(out, &Node{Type: "Output", Params: map[string]Param{"shape": I64Array(shapes[last]...)}}); err != nil {
		return nil, err
	}
	for _, s := range ex.outs[last] {
		g.Connect(s, out)
	}
	return g, nil
}

type exporter struct {
	net    *network.Network
	shapes []network.Shape
	g      *Graph
	opt    ExportOptions
	dt     float64
	names  []string
	// outs[i] lists the nodes whose sum is layer i's output: one node,
	// or for an Add the last nodes of its branches.
	outs [][]string
	// biasOf maps a weighted layer to the Add whose bias it takes.
	biasOf map[int]int
}

// outOf lists the nodes whose sum is the output of evsnn node j.
func (ex *exporter) outOf(j int) []string {
	if j == network.InputNode {
		return []string{"input"}
	}
	return ex.outs[j]
}

// layer writes the nodes of layer i and the edges into them.
func (ex *exporter) layer(i int) error {
	net, l := ex.net, ex.net.Layers[i]
	ins := net.InputsOf(i)
	var srcs []string
	for _, j := range ins {
		srcs = append(srcs, ex.outOf(j)...)
	}
	if a, ok := l.(*network.Add); ok {
		return ex.add(i, a, srcs)
	}
	in := net.ShapeOf(ex.shapes, ins[0])
	nodes, err := ex.nodes(i, in)
	if err != nil {
		return err
	}
	name := ex.names[i]
	if l.Name() != name {
		setMeta(nodes[0], MetaName, Str(l.Name()))
	}
	if _, ok := l.(*network.Spiking); ok && ins[0] != network.InputNode && net.Layers[ins[0]].Kind() == network.KindAdd {
		setMeta(nodes[0], MetaAdd, Str(net.Layers[ins[0]].Name()))
	}
	if err := ex.g.Add(name, nodes[0]); err != nil {
		return fmt.Errorf("layer %d: %w", i, err)
	}
	for _, s := range srcs {
		ex.g.Connect(s, name)
	}
	prev := name
	for k, n := range nodes[1:] {
		suffix := "_amplitude"
		if role, _ := n.Metadata[MetaRole].Text(); role == RoleSumPool {
			suffix = "_scale"
		}
		next := uniqueName(ex.g, name+suffix)
		if err := ex.g.Add(next, n); err != nil {
			return fmt.Errorf("layer %d, node %d: %w", i, k+1, err)
		}
		ex.g.Connect(prev, next)
		prev = next
	}
	ex.outs[i] = []string{prev}
	return nil
}

// add writes an Add: no node of its own, its branches' edges go into the
// neuron node after it (NIR sums the edges into a node). A bias with no
// weighted branch to take it goes into an identity node (a 1×1 Conv2d, or
// an Affine on vectors) on the first branch, marked RoleAddBias.
func (ex *exporter) add(i int, a *network.Add, srcs []string) error {
	for k, s := range srcs {
		if slices.Contains(srcs[:k], s) {
			return fmt.Errorf("layer %d (add %q): adds the output of node %q twice, and NIR has one edge between two nodes; scale that branch by 2 instead", i, a.Name(), s)
		}
	}
	ex.outs[i] = srcs
	if a.Bias == nil {
		return nil
	}
	for _, t := range ex.biasOf {
		if t == i {
			return nil // folded into a branch (see weighted)
		}
	}
	ins := ex.net.InputsOf(i)
	first := ex.outOf(ins[0])
	sh := ex.net.ShapeOf(ex.shapes, ins[0])
	c := sh[0]
	if c > maxReadout {
		return fmt.Errorf("layer %d (add %q): its bias has no Conv2d or Linear branch to go into, and an identity node of %d×%d is too large (limit %d)", i, a.Name(), c, c, maxReadout)
	}
	eye := make([]float32, c*c)
	for k := range c {
		eye[k*c+k] = 1
	}
	var n *Node
	if len(sh) == 3 {
		n = &Node{Type: "Conv2d", Params: map[string]Param{
			"weight": F32Array([]int{c, c, 1, 1}, eye), "bias": F32Array([]int{c}, clone32(a.Bias)),
			"stride": I64Array(1, 1), "padding": I64Array(0, 0), "dilation": I64Array(1, 1), "groups": I64Scalar(1),
			"input_shape": I64Array(sh[1], sh[2]),
		}}
	} else {
		n = &Node{Type: "Affine", Params: map[string]Param{
			"weight": F32Array([]int{c, c}, eye), "bias": F32Array([]int{c}, clone32(a.Bias)),
		}}
	}
	setMeta(n, MetaRole, Str(RoleAddBias))
	name := uniqueName(ex.g, ex.names[i])
	if err := ex.g.Add(name, n); err != nil {
		return fmt.Errorf("layer %d: %w", i, err)
	}
	for _, s := range first {
		ex.g.Connect(s, name)
	}
	ex.outs[i] = append([]string{name}, srcs[len(first):]...)
	return nil
}
