package onnx

import (
	"fmt"

	"github.com/evsnn/evsnn/format/onnx/onnxpb"
	"github.com/evsnn/evsnn/network"
)

type valueKind int

const (
	kindAct   valueKind = iota // an activation: computed from the graph input
	kindFloat                  // a constant float tensor
	kindInt                    // a small integer tensor, maybe symbolic
)

// value is what a name in the graph stands for.
type value struct {
	kind valueKind
	n    *irNode // kindAct: the node computing it
	f    *floatTensor
	i    *intTensor
}

// irKind says what an irNode is.
type irKind int

const (
	irInput irKind = iota // the graph input
	irLayer               // a network layer
	irBN                  // a BatchNormalization, to be folded into the layer before it
	irBias                // an Add of a constant, to be folded into a bias
	irPad                 // a Pad with nonzero pads, to be folded into the AveragePool after it
)

// irNode is one node of the intermediate graph over the activations: what
// an ONNX node that computes an activation becomes once constants are
// evaluated and no-ops (Identity, Dropout, zero Pad) are dropped.
type irNode struct {
	kind  irKind
	ref   nodeRef       // the ONNX node (for names and messages)
	ins   []*irNode     // data inputs
	users []*irNode     // the nodes that read it (Shape nodes do not count)
	shape network.Shape // per-sample output shape
	layer network.Layer // irLayer
	bn    *bnParams     // irBN
	bias  []float32     // irBias: the constant added, per channel
	pads  [2]int        // irPad: rows and columns padded on each side
	pos   int           // index in importer.nodes
	dead  bool          // folded into another node
}

// bnParams are the inputs of a BatchNormalization, one value per channel.
type bnParams struct {
	scale, beta, mean, vr []float32
	eps                   float32
}

func (n *irNode) String() string { return n.ref.String() }

// describe names a node in a message about another one.
func (n *irNode) describe() string {
	if n.kind == irInput {
		return "the graph input"
	}
	return n.ref.String()
}

// weighted reports whether the node is a Conv2d or Linear layer.
func (n *irNode) weighted() bool {
	if n.kind != irLayer {
		return false
	}
	switch n.layer.(type) {
	case *network.Conv2d, *network.Linear:
		return true
	}
	return false
}

// soleUser reports whether u is the only reader of n (and n is not the
// graph output, which is read too).
func (im *importer) soleUser(n, u *irNode) bool {
	return len(n.users) == 1 && n.users[0] == u && im.out != n
}

// get returns the value a node input names, decoding an initializer on
// first use.
func (im *importer) get(ref nodeRef, name string, want valueKind) (*value, error) {
	if v, ok := im.values[name]; ok {
		return v, nil
	}
	t, ok := im.inits[name]
	if !ok {
		return nil, im.errf(ref.String(), "input %s has no value", quote(name))
	}
	where := ref.String() + ": initializer " + quote(name)
	var v *value
	if want == kindInt {
		it, err := decodeInt(t)
		if err != nil {
			return nil, im.wrap(where, err)
		}
		v = &value{kind: kindInt, i: it}
	} else {
		ft, err := decodeFloat(t)
		if err != nil {
			return nil, im.wrap(where, err)
		}
		v = &value{kind: kindFloat, f: ft}
	}
	im.values[name] = v
	return v, nil
}

// input returns input i of a node ("" if absent).
func input(nd *onnxpb.NodeProto, i int) string {
	if i < len(nd.GetInput()) {
		return nd.GetInput()[i]
	}
	return ""
}

// isAct reports whether input i of the node is an activation.
func (im *importer) isAct(ref nodeRef, i int) bool {
	v, ok := im.values[input(ref.nd, i)]
	return ok && v.kind == kindAct
}

// act returns the node computing the activation a node reads as input i.
func (im *importer) act(ref nodeRef, i int) (*irNode, error) {
	name := input(ref.nd, i)
	if name == "" {
		return nil, im.errf(ref.String(), "input %d missing", i)
	}
	v, ok := im.values[name]
	if !ok || v.kind != kindAct {
		return nil, im.unsupported(ref.String(), "input %d (%s) must be the activation computed from the graph input, it is a constant", i, quote(name))
	}
	if p := v.n; p.kind == irPad && ref.nd.GetOpType() != "AveragePool" {
		// Refused here, before the shapes after it go wrong.
		return nil, im.unsupported(p.String(), "nonzero pads %v before %s: only zero padding read by an AveragePool alone is folded (into its padding)",
			[]int{0, 0, p.pads[0], p.pads[1], 0, 0, p.pads[0], p.pads[1]}, ref)
	}
	return v.n, nil
}

// folded returns the node n stands for once the BatchNormalizations and
// constant adds after a layer are folded into it.
func folded(n *irNode) *irNode {
	for n.kind == irBN || n.kind == irBias {
		n = n.ins[0]
	}
	return n
}

// constF returns a constant float tensor input, or nil if the (optional)
// input is absent.
func (im *importer) constF(ref nodeRef, i int, what string) (*floatTensor, error) {
	name := input(ref.nd, i)
	if name == "" {
		return nil, nil
	}
	v, err := im.get(ref, name, kindFloat)
	if err != nil {
		return nil, err
	}
	if v.kind != kindFloat {
		return nil, im.unsupported(ref.String(), "%s %s must be a constant float tensor", what, quote(name))
	}
	return v.f, nil
}

// constInts returns an integer input (constant or computed from shapes).
func (im *importer) constInts(ref nodeRef, i int, what string) (*intTensor, error) {
	name := input(ref.nd, i)
	if name == "" {
		return nil, nil
	}
	v, err := im.get(ref, name, kindInt)
	if err != nil {
		return nil, err
	}
	if v.kind != kindInt {
		return nil, im.unsupported(ref.String(), "%s %s must be a constant integer tensor", what, quote(name))
	}
	return v.i, nil
}

// output defines the node's first output and checks that any further
// outputs (Dropout's mask, BatchNormalization's training statistics,
// MaxPool's indices) are unused.
func (im *importer) output(ref nodeRef, v *value) error {
	outs := ref.nd.GetOutput()
	if len(outs) == 0 || outs[0] == "" {
		return im.errf(ref.String(), "no output")
	}
	for _, o := range outs[1:] {
		if o != "" && (im.consumer[o] > 0 || o == im.outName) {
			return im.unsupported(ref.String(), "its extra output %s is used", quote(o))
		}
	}
	im.values[outs[0]] = v
	return nil
}

// newNode appends an activation node reading ins and defines the ONNX
// node's output as its result.
func (im *importer) newNode(ref nodeRef, n *irNode, ins ...*irNode) error {
	n.ref, n.ins, n.pos = ref, ins, len(im.nodes)
	for _, in := range ins {
		in.users = append(in.users, n)
	}
	im.nodes = append(im.nodes, n)
	return im.output(ref, &value{kind: kindAct, n: n})
}

// addLayer appends a layer reading ins (one input, or several of one shape
// for an Add).
func (im *importer) addLayer(ref nodeRef, l network.Layer, ins ...*irNode) error {
	out, err := l.OutShape(ins[0].shape)
	if err == nil {
		err = out.Valid()
	}
	if err != nil {
		return fmt.Errorf("input %v: %v", ins[0].shape, err)
	}
	im.params += l.NumParams()
	if im.params > im.maxParams {
		return fmt.Errorf("the layers would hold more than %d parameters, far more than the file stores (one weight shared by many layers?)", im.maxParams)
	}
	return im.newNode(ref, &irNode{kind: irLayer, layer: l, shape: out}, ins...)
}

// alias defines the node's output as the same activation as in (an op that
// changes nothing).
func (im *importer) alias(ref nodeRef, in *irNode) error {
	return im.output(ref, &value{kind: kindAct, n: in})
}

// checkReachable refuses activation nodes whose result never reaches the
// graph output: the network has one output, and every layer must lead to
// it.
func (im *importer) checkReachable(out *irNode) error {
	seen := make([]bool, len(im.nodes))
	stack := []*irNode{out}
	seen[out.pos] = true
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, in := range n.ins {
			if in.kind != irInput && !seen[in.pos] {
				seen[in.pos] = true
				stack = append(stack, in)
			}
		}
	}
	for i, n := range im.nodes {
		if !seen[i] {
			return im.unsupported(n.String(), "its result does not reach the graph output %s (a dangling branch)", quote(im.outName))
		}
	}
	return nil
}
