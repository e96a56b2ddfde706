package nir

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/evsnn/evsnn/network"
)

// This file walks a NIR graph and dispatches its nodes; the nodes that
// become layers are in import_layers.go, the neurons and the sums of
// several edges (Adds) in import_neuron.go, parameter reading in
// import_params.go.

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

// ToNetworkWith converts a NIR graph (a DAG from one Input to one Output
// node, see Graph.DAG) into an evsnn network, folding what evsnn has no
// layer for (Scale, SumPool2d's factor, the input gain and leak potential
// of the neurons, the unit amplitude of NIR spikes) into the neighbouring
// weights and biases, and turning several edges into one neuron node into
// an Add. Every error names the node.
func ToNetworkWith(g *Graph, opt ImportOptions) (*network.Network, error) {
	dag, err := g.DAG()
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
	im := &importer{g: g, dag: dag, dt: dt, vals: map[string]value{}, claimed: map[int]string{}, names: map[string]bool{}, used: map[string]bool{}}
	for _, name := range g.Order {
		im.names[name] = true
	}
	for _, name := range dag.Order {
		if err := im.visit(name); err != nil {
			return nil, err
		}
	}
	net := &network.Network{Input: im.input0, Layers: im.layers, Inputs: im.inputs}
	net.Compact()
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
		return nil, fmt.Errorf("node %q: the graph has no layers between Input and Output", dag.Output)
	}
	if err := net.Validate(); err != nil {
		return nil, fmt.Errorf("imported network: %w", err)
	}
	return net, nil
}

// value is what flows out of a NIR node, in evsnn terms: the output of an
// evsnn node, times what is still to be folded into a layer downstream.
// Values are never modified once made: a node may feed several others.
type value struct {
	// src is the evsnn node whose output this is: network.InputNode or
	// a layer index.
	src   int
	shape network.Shape
	// lastW is the Conv2d or Linear layer whose output this is (through
	// AvgPool2d and Flatten at most), so that a neuron after it can fold
	// its input gain into it; -1 after a neuron.
	lastW int
	// pend is an elementwise scale over shape not yet folded into
	// weights (nil: none).
	pend []float64
	// amp, right after a neuron node, is its θ per neuron: an evsnn spike
	// carries θ, a NIR spike 1, so the next layer's input is to be
	// scaled by 1/θ unless a Scale of exactly θ follows (as evsnn writes
	// it).
	amp []float32
	// afterNeuron: a neuron's output (through Scale, pools or Flatten at
	// most): an Output node after it gets an identity readout.
	afterNeuron bool
	// neuron is the last neuron node upstream, for errors.
	neuron string
	// sumPool, after a SumPool2d node, is the evsnn AvgPool2d (or
	// GlobalAvgPool) made from it, whose 1/divisor Scale may follow; -1
	// otherwise. prePool is the per-channel scale before that pool.
	sumPool     int
	sumPoolNode string
	prePool     []float64
	// addBias is the bias this branch carries into the Add after it:
	// evsnn's export folds an Add's bias into one of its branches (see
	// MetaAddBias).
	addBias []float32
}

type importer struct {
	g      *Graph
	dag    *DAG
	dt     float64
	input0 network.Shape
	layers []network.Layer
	inputs [][]int
	shapes []network.Shape // the output shape of every layer
	vals   map[string]value
	// claimed maps a weighted layer to the neuron node that folded its
	// gain into it: a Conv2d or Linear feeds one neuron layer.
	claimed map[int]string
	// names holds every node name and every layer name given out, so
	// that a layer evsnn adds (an Add, a readout) gets a fresh one; used
	// holds the names of the layers made so far.
	names, used map[string]bool
}

func (im *importer) errf(name, format string, args ...any) error {
	return fmt.Errorf("node %q (%s): %s", name, im.g.Nodes[name].Type, fmt.Sprintf(format, args...))
}

// visit imports one node; all its sources have been visited.
func (im *importer) visit(name string) error {
	n := im.g.Nodes[name]
	ins := im.dag.In[name]
	var out value
	var err error
	switch n.Type {
	case "Input":
		out, err = im.input(name)
	case "Output":
		if len(ins) != 1 {
			return im.errf(name, "%d edges into it (from %s): NIR sums them, and evsnn sums branches only into a neuron layer (IF/LIF); add one before the Output node",
				len(ins), quoteList(ins))
		}
		return im.output(name, im.vals[ins[0]])
	case "IF", "LIF":
		vals := make([]value, len(ins))
		for k, src := range ins {
			vals[k] = im.unitSpikes(im.vals[src])
		}
		out, err = im.neuron(name, vals)
	default:
		if len(ins) != 1 {
			return im.errf(name, "%d edges into it (from %s): NIR sums them, and evsnn sums branches only into a neuron layer (IF/LIF), as an Add",
				len(ins), quoteList(ins))
		}
		v := im.vals[ins[0]]
		if v.amp != nil && n.Type == "Scale" && im.scaleIsAmplitude(name, v) {
			// The Scale evsnn writes after a neuron node: an evsnn spike
			// carries θ.
			v.amp = nil
			im.vals[name] = v
			return nil
		}
		out, err = im.layer(name, im.unitSpikes(v))
	}
	if err != nil {
		return err
	}
	im.vals[name] = out
	return nil
}

// layer imports a node with one input that is not a neuron.
func (im *importer) layer(name string, v value) (value, error) {
	switch t := im.g.Nodes[name].Type; t {
	case "Affine", "Linear":
		return im.affine(name, v)
	case "Conv2d":
		return im.conv(name, v)
	case "AvgPool2d", "SumPool2d":
		return im.pool(name, v)
	case "Flatten":
		return im.flatten(name, v)
	case "Scale":
		return im.scale(name, v)
	case "Input", "Output":
		return value{}, im.errf(name, "a second %s node inside the graph", t)
	case "NIRGraph":
		return value{}, im.errf(name, "nested NIR graphs are not supported")
	default:
		return value{}, im.errf(name, "node type %q is not supported by evsnn (supported: %s)", t, strings.Join(SupportedTypes, ", "))
	}
}

// unitSpikes turns a value right after a neuron node (NIR spikes of 1,
// evsnn spikes of θ) into one with the factor 1/θ pending.
func (im *importer) unitSpikes(v value) value {
	if v.amp == nil {
		return v
	}
	v.pend = make([]float64, len(v.amp))
	for i, th := range v.amp {
		v.pend[i] = 1 / float64(th)
	}
	v.amp = nil
	return v
}

// layerName is the evsnn name of the layer node name becomes: its
// evsnn.name metadata or the node name.
func (im *importer) layerName(name string) string {
	if p, ok := im.g.Nodes[name].Metadata[MetaName]; ok {
		if s, ok := p.Text(); ok {
			im.names[s] = true
			return s
		}
	}
	return name
}

// freshName returns base, or base followed by underscores, whichever is
// not yet a node or layer name.
func (im *importer) freshName(base string) string {
	for im.names[base] {
		base += "_"
	}
	im.names[base] = true
	return base
}

// maxTensor bounds every tensor the import makes (the input, each layer's
// output): the factors it folds are held per element, and a hostile graph
// of a few bytes could otherwise declare an input of 2^31 values.
const maxTensor = 1 << 24

// push appends layer l reading the given evsnn nodes (the first gives the
// shape) and returns its index and output shape.
func (im *importer) push(l network.Layer, name string, in network.Shape, inputs ...int) (int, network.Shape, error) {
	out, err := l.OutShape(in)
	if err != nil {
		return 0, nil, im.errf(name, "%v", err)
	}
	if out.Size() > maxTensor {
		return 0, nil, im.errf(name, "output shape %v has %d values; evsnn imports tensors of up to %d", out, out.Size(), maxTensor)
	}
	im.layers = append(im.layers, l)
	im.inputs = append(im.inputs, inputs)
	im.shapes = append(im.shapes, out)
	im.used[l.Name()] = true
	return len(im.layers) - 1, out, nil
}

func (im *importer) input(name string) (value, error) {
	sh, _, err := im.shapeParam(name, "shape", true)
	if err != nil {
		return value{}, err
	}
	if len(sh) != 1 && len(sh) != 3 {
		return value{}, im.errf(name, "input shape %v: evsnn takes [C,H,W] images or [N] vectors", sh)
	}
	if sh.Size() > maxTensor {
		return value{}, im.errf(name, "input shape %v has %d values; evsnn imports tensors of up to %d", sh, sh.Size(), maxTensor)
	}
	im.input0 = sh
	return value{src: network.InputNode, shape: sh.Clone(), lastW: -1, sumPool: -1}, nil
}

// output ends the network. A graph that ends in a neuron layer gets an
// identity Linear readout named "readout", so that the network ends in a
// readout as evsnn networks must (SPEC §1) and its accumulated output is the
// NIR graph's output (the spike counts, times any Scale after the last
// neuron node).
func (im *importer) output(name string, v value) error {
	if sh, ok, err := im.shapeParam(name, "shape", false); err != nil {
		return err
	} else if ok && sh.Size() != v.shape.Size() {
		return im.errf(name, "shape %v does not match the incoming shape %v", sh, v.shape)
	}
	v = im.unitSpikes(v)
	if v.afterNeuron {
		return im.readout(name, v)
	}
	if v.pend != nil {
		if v.lastW < 0 {
			return im.errf(name, "a Scale before the output cannot be folded into any layer")
		}
		if err := im.claim(name, v.lastW); err != nil {
			return err
		}
		return im.foldOut(name, v.lastW, v.pend, false)
	}
	return nil
}

// maxReadout bounds the identity readout appended after a trailing neuron
// layer (its weight matrix is n×n).
const maxReadout = 4096

func (im *importer) readout(name string, v value) error {
	n := v.shape.Size()
	if n > maxReadout {
		return im.errf(name, "the graph ends in %d neurons; evsnn would need a %d×%d identity readout (limit %d)", n, n, n, maxReadout)
	}
	src := v.src
	if len(v.shape) != 1 {
		idx, _, err := im.push(&network.Flatten{LayerName: im.freshName("readout_flatten")}, name, v.shape, src)
		if err != nil {
			return err
		}
		src = idx
	}
	l := &network.Linear{LayerName: im.freshName("readout"), In: n, Out: n, Weight: make([]float32, n*n), Bias: make([]float32, n)}
	for i := 0; i < n; i++ {
		s := 1.0
		if v.pend != nil {
			s = v.pend[i]
		}
		l.Weight[i*n+i] = float32(s)
	}
	_, _, err := im.push(l, name, network.Shape{n}, src)
	return err
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
