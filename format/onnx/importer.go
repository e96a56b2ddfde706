package onnx

import (
	"container/heap"
	"errors"
	"fmt"

	"github.com/evsnn/evsnn/format/onnx/onnxpb"
	"github.com/evsnn/evsnn/network"
)

// The opsets whose semantics this importer implements for the ops it reads.
const (
	MinOpset = 9
	MaxOpset = 18
)

// maxNodes bounds the graph: the networks evsnn converts have tens to
// hundreds of nodes.
const maxNodes = 1 << 16

// maxGeom bounds kernel sizes, strides and pads.
const maxGeom = 1 << 16

// importer holds the state of one import. It works in three phases:
// node reads the ONNX nodes in topological order, evaluates everything
// that is constant (weights, the Shape→Gather→Concat chains) and builds an
// intermediate graph of irNodes over the activations (graph.go); the
// passes of fold.go fold BatchNormalization, constant adds and pads into
// the layers they belong to and reorder Conv → MaxPool → ReLU; emit.go
// turns what is left into the network and names its layers.
type importer struct {
	src   string
	model *onnxpb.ModelProto
	opset int64

	inits    map[string]*onnxpb.TensorProto
	values   map[string]*value
	consumer map[string]int // value name -> number of consuming nodes
	outName  string         // the graph output
	out      *irNode        // the node computing it

	input *irNode   // the graph input
	nodes []*irNode // the activation nodes, in topological order
	// staticBatch is the input's batch dimension if the file fixes it,
	// else 0.
	staticBatch int64
	// params counts the parameters of the layers so far; maxParams
	// bounds them by what the file can store, so that one weight shared
	// by thousands of layers cannot make the import allocate terabytes.
	params, maxParams int
}

// nodeRef is a node and its index in the file, for messages.
type nodeRef struct {
	nd  *onnxpb.NodeProto
	idx int
}

func (r nodeRef) String() string {
	name := r.nd.GetName()
	if name == "" {
		return fmt.Sprintf("node #%d (%s)", r.idx, quoteOp(r.nd.GetOpType()))
	}
	return fmt.Sprintf("node %s (%s)", quote(name), quoteOp(r.nd.GetOpType()))
}

func quoteOp(op string) string {
	for _, r := range op {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return quote(op)
		}
	}
	if op == "" || len(op) > 40 {
		return quote(op)
	}
	return op
}

func (im *importer) errf(where, format string, args ...any) error {
	return &Error{Source: im.src, Where: where, Msg: oneLine(fmt.Sprintf(format, args...))}
}

func (im *importer) unsupported(where, format string, args ...any) error {
	return &Error{Source: im.src, Where: where, Msg: oneLine(fmt.Sprintf(format, args...)), Unsupported: true}
}

// unsupportedErr marks a message from a helper as "unsupported" rather
// than "malformed"; wrap turns it into an *Error.
type unsupportedErr struct{ msg string }

func (e *unsupportedErr) Error() string { return e.msg }

func unsupportedf(format string, args ...any) error {
	return &unsupportedErr{fmt.Sprintf(format, args...)}
}

// wrap turns an error from a helper into an *Error at where.
func (im *importer) wrap(where string, err error) error {
	var ue *unsupportedErr
	if errors.As(err, &ue) {
		return im.unsupported(where, "%s", ue.msg)
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return im.errf(where, "%s", err.Error())
}

func (im *importer) run() (*network.Network, error) {
	g := im.model.GetGraph()
	if err := im.readOpset(); err != nil {
		return nil, err
	}
	if len(g.GetSparseInitializer()) > 0 {
		return nil, im.unsupported("", "sparse initializers")
	}
	if len(g.GetNode()) > maxNodes {
		return nil, im.errf("", "graph has %d nodes, more than %d", len(g.GetNode()), maxNodes)
	}

	im.inits = map[string]*onnxpb.TensorProto{}
	for _, t := range g.GetInitializer() {
		name := t.GetName()
		if name == "" {
			return nil, im.errf("", "initializer without a name")
		}
		if _, dup := im.inits[name]; dup {
			return nil, im.errf("initializer "+quote(name), "name used twice")
		}
		im.inits[name] = t
	}

	// The input: the graph inputs that are not initializers (IR < 4
	// lists initializers as inputs too).
	var inputs []*onnxpb.ValueInfoProto
	for _, in := range g.GetInput() {
		if _, ok := im.inits[in.GetName()]; !ok {
			inputs = append(inputs, in)
		}
	}
	if len(inputs) != 1 {
		names := make([]string, 0, 4)
		for i, in := range inputs {
			if i == 4 {
				names = append(names, "...")
				break
			}
			names = append(names, quote(in.GetName()))
		}
		return nil, im.unsupported("", "graph has %d inputs %v, want exactly one (the image batch)", len(inputs), names)
	}
	inShape, err := im.inputShape(inputs[0])
	if err != nil {
		return nil, err
	}
	if len(g.GetOutput()) != 1 {
		return nil, im.unsupported("", "graph has %d outputs, want exactly one (the logits)", len(g.GetOutput()))
	}
	im.outName = g.GetOutput()[0].GetName()

	im.values = map[string]*value{}
	inName := inputs[0].GetName()
	if inName == "" {
		return nil, im.errf("", "graph input has no name")
	}
	im.input = &irNode{kind: irInput, shape: inShape, pos: -1}
	im.values[inName] = &value{kind: kindAct, n: im.input}

	order, err := im.topoSort()
	if err != nil {
		return nil, err
	}
	for _, i := range order {
		if err := im.node(nodeRef{g.GetNode()[i], i}); err != nil {
			return nil, err
		}
	}

	final := im.values[im.outName]
	if final == nil || final.kind != kindAct || final.n == im.input {
		return nil, im.unsupported("output "+quote(im.outName), "is not computed from the input by layers")
	}
	im.out = final.n
	if err := im.checkReachable(final.n); err != nil {
		return nil, err
	}
	if err := im.fold(); err != nil {
		return nil, err
	}
	return im.emit(inShape)
}

func (im *importer) readOpset() error {
	found := false
	for _, op := range im.model.GetOpsetImport() {
		if d := op.GetDomain(); d == "" || d == "ai.onnx" {
			if found {
				return im.errf("", "default-domain opset imported twice")
			}
			found = true
			im.opset = op.GetVersion()
		}
	}
	if !found {
		return im.errf("", "the model imports no ai.onnx opset")
	}
	if im.opset < MinOpset || im.opset > MaxOpset {
		return im.unsupported("", "opset %d (evsnn reads opsets %d to %d; re-export with torch.onnx.export(..., opset_version=13))", im.opset, MinOpset, MaxOpset)
	}
	return nil
}

// inputShape reads the single graph input: float, [N,C,H,W] or [N,F], all
// dimensions but the batch known.
func (im *importer) inputShape(in *onnxpb.ValueInfoProto) (network.Shape, error) {
	where := "input " + quote(in.GetName())
	tt := in.GetType().GetTensorType()
	if tt == nil {
		return nil, im.unsupported(where, "not a tensor")
	}
	if et := tt.GetElemType(); et != int32(onnxpb.TensorProto_FLOAT) {
		return nil, im.unsupported(where, "element type %s, want FLOAT", typeName(et))
	}
	if tt.GetShape() == nil {
		return nil, im.unsupported(where, "no shape given")
	}
	dims := tt.GetShape().GetDim()
	if len(dims) != 4 && len(dims) != 2 {
		return nil, im.unsupported(where, "rank %d, want [N,C,H,W] or [N,F]", len(dims))
	}
	if _, ok := dims[0].GetValue().(*onnxpb.TensorShapeProto_Dimension_DimValue); ok {
		if b := dims[0].GetDimValue(); b > 0 {
			im.staticBatch = b
		}
	}
	sh := make(network.Shape, len(dims)-1)
	for i, d := range dims[1:] {
		v := d.GetDimValue()
		if _, ok := d.GetValue().(*onnxpb.TensorShapeProto_Dimension_DimValue); !ok || v <= 0 || v > network.MaxElements {
			return nil, im.unsupported(where, "dimension %d is not a known positive size (%s)", i+1, dimString(d))
		}
		sh[i] = int(v)
	}
	if err := sh.Valid(); err != nil {
		return nil, im.errf(where, "%v", err)
	}
	return sh, nil
}

func dimString(d *onnxpb.TensorShapeProto_Dimension) string {
	switch v := d.GetValue().(type) {
	case *onnxpb.TensorShapeProto_Dimension_DimValue:
		return fmt.Sprint(v.DimValue)
	case *onnxpb.TensorShapeProto_Dimension_DimParam:
		return quote(v.DimParam)
	}
	return "unknown"
}

// topoSort orders the nodes so that each comes after the producers of its
// inputs, checks that every input is produced by something, and reports a
// cycle.
func (im *importer) topoSort() ([]int, error) {
	nodes := im.model.GetGraph().GetNode()
	producer := map[string]int{}
	for i, nd := range nodes {
		for _, out := range nd.GetOutput() {
			if out == "" {
				continue
			}
			ref := nodeRef{nd, i}
			if j, dup := producer[out]; dup {
				return nil, im.errf(ref.String(), "output %s is also produced by %s", quote(out), nodeRef{nodes[j], j})
			}
			if _, ok := im.inits[out]; ok {
				return nil, im.errf(ref.String(), "output %s is also an initializer", quote(out))
			}
			if _, ok := im.values[out]; ok {
				return nil, im.errf(ref.String(), "output %s is also the graph input", quote(out))
			}
			producer[out] = i
		}
	}
	im.consumer = map[string]int{}
	indeg := make([]int, len(nodes))
	users := make([][]int, len(nodes))
	for i, nd := range nodes {
		for _, in := range nd.GetInput() {
			if in == "" {
				continue
			}
			im.consumer[in]++
			if p, ok := producer[in]; ok {
				indeg[i]++
				users[p] = append(users[p], i)
				continue
			}
			if _, ok := im.inits[in]; ok {
				continue
			}
			if _, ok := im.values[in]; ok {
				continue
			}
			return nil, im.errf(nodeRef{nd, i}.String(), "input %s is not produced by any node, initializer or graph input (missing initializer?)", quote(in))
		}
	}
	// Kahn's algorithm, always taking the ready node that comes first in
	// the file: a file in topological order (as ONNX requires) keeps its
	// order, and so the layers keep the order of the PyTorch graph.
	order := make([]int, 0, len(nodes))
	ready := &intHeap{}
	for i := range nodes {
		if indeg[i] == 0 {
			heap.Push(ready, i)
		}
	}
	for ready.Len() > 0 {
		i := heap.Pop(ready).(int)
		order = append(order, i)
		for _, u := range users[i] {
			indeg[u]--
			if indeg[u] == 0 {
				heap.Push(ready, u)
			}
		}
	}
	if len(order) != len(nodes) {
		for i := range nodes {
			if indeg[i] > 0 {
				return nil, im.errf(nodeRef{nodes[i], i}.String(), "the graph has a cycle through this node")
			}
		}
	}
	return order, nil
}

// node imports one node.
func (im *importer) node(ref nodeRef) error {
	nd := ref.nd
	where := ref.String()
	if d := nd.GetDomain(); d != "" && d != "ai.onnx" {
		return im.unsupported(where, "op %s of domain %s", quoteOp(nd.GetOpType()), quote(d))
	}
	h, ok := handlers[nd.GetOpType()]
	if !ok {
		return im.unsupported(where, "op type %s is not supported (evsnn imports Conv, BatchNormalization, Relu, MaxPool, AveragePool, GlobalAveragePool, Pad, Gemm, MatMul, Add, Flatten, Reshape, Identity, Dropout and the shape ops of a flatten)", quoteOp(nd.GetOpType()))
	}
	if len(nd.GetInput()) > 8 || len(nd.GetOutput()) > 8 {
		return im.errf(where, "%d inputs and %d outputs", len(nd.GetInput()), len(nd.GetOutput()))
	}
	if !h.multi {
		acts := 0
		for _, in := range nd.GetInput() {
			if v, ok := im.values[in]; ok && v.kind == kindAct {
				acts++
			}
		}
		if acts > 1 {
			return im.unsupported(where, "it reads %d activations; only Add joins branches", acts)
		}
	}
	a, err := getAttrs(nd, h.attrs...)
	if err != nil {
		return im.wrap(where, err)
	}
	if err := h.fn(im, ref, a); err != nil {
		return im.wrap(where, err)
	}
	return nil
}

type handler struct {
	attrs []string
	fn    func(im *importer, ref nodeRef, a attrs) error
	// multi: the op may read several activations (Add joins two;
	// Concat is refused by its handler with a message of its own).
	multi bool
}

var handlers map[string]handler

func init() {
	handlers = map[string]handler{
		"Conv":               {attrs: []string{"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"}, fn: (*importer).conv},
		"BatchNormalization": {attrs: []string{"epsilon", "momentum", "spatial", "training_mode", "is_test"}, fn: (*importer).batchNorm},
		"Relu":               {fn: (*importer).relu},
		"MaxPool":            {attrs: []string{"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"}, fn: (*importer).maxPool},
		"AveragePool":        {attrs: []string{"auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides", "dilations"}, fn: (*importer).avgPool},
		"GlobalAveragePool":  {fn: (*importer).globalAvgPool},
		"Pad":                {attrs: []string{"mode", "pads", "value"}, fn: (*importer).pad},
		"Gemm":               {attrs: []string{"alpha", "beta", "transA", "transB"}, fn: (*importer).gemm},
		"MatMul":             {fn: (*importer).matMul},
		"Add":                {fn: (*importer).add, multi: true},
		"Flatten":            {attrs: []string{"axis"}, fn: (*importer).flatten},
		"Reshape":            {attrs: []string{"allowzero"}, fn: (*importer).reshape},
		"Identity":           {fn: (*importer).identity},
		"Dropout":            {attrs: []string{"ratio", "seed", "is_test"}, fn: (*importer).dropout},
		"Constant":           {attrs: []string{"value", "value_float", "value_floats", "value_int", "value_ints", "sparse_value", "value_string", "value_strings"}, fn: (*importer).constant},
		"Shape":              {attrs: []string{"start", "end"}, fn: (*importer).shape},
		"Gather":             {attrs: []string{"axis"}, fn: (*importer).gather},
		"Unsqueeze":          {attrs: []string{"axes"}, fn: (*importer).unsqueeze},
		"Concat":             {attrs: []string{"axis"}, fn: (*importer).concat, multi: true},
	}
}

// intHeap is a min-heap of node indices.
type intHeap []int

func (h intHeap) Len() int           { return len(h) }
func (h intHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h intHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *intHeap) Push(x any)        { *h = append(*h, x.(int)) }
func (h *intHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
