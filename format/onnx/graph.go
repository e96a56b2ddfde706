package onnx

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/evsnn/evsnn/format/onnx/onnxpb"
	"github.com/evsnn/evsnn/network"
)

// The opsets whose semantics this importer implements for the ops it reads.
const (
	MinOpset = 9
	MaxOpset = 18
)

// maxNodes bounds the graph: a chain network has tens of nodes.
const maxNodes = 1 << 16

// maxGeom bounds kernel sizes, strides and pads.
const maxGeom = 1 << 16

type valueKind int

const (
	kindAct   valueKind = iota // the activation flowing down the chain
	kindFloat                  // a constant float tensor
	kindInt                    // a small integer tensor, maybe symbolic
)

// value is what a name in the graph stands for.
type value struct {
	kind valueKind
	// kindAct: per-sample shape, index of the layer whose direct output
	// this is (-1 if none, e.g. the input or after a ReLU), and the node
	// that consumed it.
	shape      network.Shape
	layer      int
	consumedBy string
	// kindFloat
	f *floatTensor
	// kindInt
	i *intTensor
}

type importer struct {
	src   string
	model *onnxpb.ModelProto
	opset int64

	inits    map[string]*onnxpb.TensorProto
	values   map[string]*value
	consumer map[string]int // value name -> number of consuming nodes
	net      *network.Network
	counts   map[string]int // layer name prefix -> layers so far
	// staticBatch is the input's batch dimension if the file fixes it,
	// else 0.
	staticBatch int64
	last        string // name of the latest activation
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
	m := im.model
	g := m.GetGraph()
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
	outName := g.GetOutput()[0].GetName()

	im.net = &network.Network{Input: inShape}
	im.counts = map[string]int{}
	im.values = map[string]*value{}
	inName := inputs[0].GetName()
	if inName == "" {
		return nil, im.errf("", "graph input has no name")
	}
	im.values[inName] = &value{kind: kindAct, shape: inShape, layer: -1}
	im.last = inName

	order, err := im.topoSort()
	if err != nil {
		return nil, err
	}
	for _, i := range order {
		ref := nodeRef{g.GetNode()[i], i}
		if err := im.node(ref); err != nil {
			return nil, err
		}
	}

	final := im.values[outName]
	if final == nil || final.kind != kindAct {
		return nil, im.unsupported("output "+quote(outName), "is not computed from the input by the chain of layers")
	}
	if outName != im.last || final.consumedBy != "" {
		return nil, im.unsupported("output "+quote(outName), "is not the end of the chain of layers")
	}
	if len(im.net.Layers) == 0 {
		return nil, im.errf("", "graph has no layers")
	}
	return im.net, nil
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
	// Kahn's algorithm, taking ready nodes in file order.
	order := make([]int, 0, len(nodes))
	var ready []int
	for i := range nodes {
		if indeg[i] == 0 {
			ready = append(ready, i)
		}
	}
	for len(ready) > 0 {
		i := ready[0]
		ready = ready[1:]
		order = append(order, i)
		for _, u := range users[i] {
			indeg[u]--
			if indeg[u] == 0 {
				ready = append(ready, u)
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

// act returns the activation a node reads as input i and marks it
// consumed: an activation feeds exactly one node, or the graph branches.
func (im *importer) act(ref nodeRef, i int) (*value, error) {
	name := input(ref.nd, i)
	if name == "" {
		return nil, im.errf(ref.String(), "input %d missing", i)
	}
	v, ok := im.values[name]
	if !ok || v.kind != kindAct {
		return nil, im.unsupported(ref.String(), "input %d (%s) must be the activation computed from the graph input, it is a constant", i, quote(name))
	}
	if v.consumedBy != "" {
		return nil, im.unsupported(ref.String(), "the graph branches: %s is also read by %s; only chains are supported", quote(name), v.consumedBy)
	}
	if name != im.last {
		return nil, im.unsupported(ref.String(), "the graph branches: it reads %s, not the latest activation %s", quote(name), quote(im.last))
	}
	v.consumedBy = ref.String()
	return v, nil
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
// outputs (Dropout's mask, BatchNormalization's training statistics) are
// unused.
func (im *importer) output(ref nodeRef, v *value) error {
	outs := ref.nd.GetOutput()
	if len(outs) == 0 || outs[0] == "" {
		return im.errf(ref.String(), "no output")
	}
	graphOut := im.model.GetGraph().GetOutput()[0].GetName()
	for _, o := range outs[1:] {
		if o != "" && (im.consumer[o] > 0 || o == graphOut) {
			return im.unsupported(ref.String(), "its extra output %s is used", quote(o))
		}
	}
	im.values[outs[0]] = v
	if v.kind == kindAct {
		im.last = outs[0]
	}
	return nil
}

// addLayer appends a layer fed by activation in and defines the node's
// output as the layer's output.
func (im *importer) addLayer(ref nodeRef, in *value, l network.Layer) error {
	out, err := l.OutShape(in.shape)
	if err == nil {
		err = out.Valid()
	}
	if err != nil {
		return im.errf(ref.String(), "input %v: %v", in.shape, err)
	}
	im.params += l.NumParams()
	if im.params > im.maxParams {
		return im.errf(ref.String(), "the layers would hold more than %d parameters, far more than the file stores (one weight shared by many layers?)", im.maxParams)
	}
	im.net.Layers = append(im.net.Layers, l)
	return im.output(ref, &value{kind: kindAct, shape: out, layer: len(im.net.Layers) - 1})
}

// alias defines the node's output as the same activation (an op that
// changes nothing).
func (im *importer) alias(ref nodeRef, in *value) error {
	return im.output(ref, &value{kind: kindAct, shape: in.shape, layer: in.layer})
}

func (im *importer) layerName(prefix string) string {
	im.counts[prefix]++
	n := im.counts[prefix]
	if prefix == "flatten" && n == 1 {
		return "flatten"
	}
	return fmt.Sprintf("%s%d", prefix, n)
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
		return im.unsupported(where, "op type %s is not supported (evsnn imports Conv, BatchNormalization, Relu, AveragePool, GlobalAveragePool, Pad, Gemm, MatMul, Add, Flatten, Reshape, Identity, Dropout)", quoteOp(nd.GetOpType()))
	}
	if len(nd.GetInput()) > 8 || len(nd.GetOutput()) > 8 {
		return im.errf(where, "%d inputs and %d outputs", len(nd.GetInput()), len(nd.GetOutput()))
	}
	acts := 0
	for _, in := range nd.GetInput() {
		if v, ok := im.values[in]; ok && v.kind == kindAct {
			acts++
		}
	}
	if acts > 1 && nd.GetOpType() != "Shape" {
		return im.unsupported(where, "it combines %d activations (a residual connection or a merge of branches); only chains are supported", acts)
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
}

var handlers map[string]handler

func init() {
	handlers = map[string]handler{
		"Conv":               {[]string{"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"}, (*importer).conv},
		"BatchNormalization": {[]string{"epsilon", "momentum", "spatial", "training_mode", "is_test"}, (*importer).batchNorm},
		"Relu":               {nil, (*importer).relu},
		"AveragePool":        {[]string{"auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides", "dilations"}, (*importer).avgPool},
		"GlobalAveragePool":  {nil, (*importer).globalAvgPool},
		"Pad":                {[]string{"mode", "pads", "value"}, (*importer).pad},
		"Gemm":               {[]string{"alpha", "beta", "transA", "transB"}, (*importer).gemm},
		"MatMul":             {nil, (*importer).matMul},
		"Add":                {nil, (*importer).add},
		"Flatten":            {[]string{"axis"}, (*importer).flatten},
		"Reshape":            {[]string{"allowzero"}, (*importer).reshape},
		"Identity":           {nil, (*importer).identity},
		"Dropout":            {[]string{"ratio", "seed", "is_test"}, (*importer).dropout},
		"Constant":           {[]string{"value", "value_float", "value_floats", "value_int", "value_ints", "sparse_value", "value_string", "value_strings"}, (*importer).constant},
		"Shape":              {[]string{"start", "end"}, (*importer).shape},
		"Gather":             {[]string{"axis"}, (*importer).gather},
		"Unsqueeze":          {[]string{"axes"}, (*importer).unsqueeze},
		"Concat":             {[]string{"axis"}, (*importer).concat},
	}
}

// geom reads a 2-element INTS attribute (kernel, strides, dilations) with a
// default, each value in [lo, maxGeom].
func geom(a attrs, name string, def []int64, n int, lo int64) ([]int, error) {
	v, err := a.ints(name)
	if err != nil {
		return nil, err
	}
	if v == nil {
		v = def
	}
	if v == nil {
		return nil, fmt.Errorf("attribute %s missing", name)
	}
	if len(v) != n {
		return nil, &unsupportedErr{fmt.Sprintf("attribute %s = %v: want %d values (2-D only)", name, v, n)}
	}
	out := make([]int, n)
	for i, x := range v {
		if x < lo || x > maxGeom {
			return nil, fmt.Errorf("attribute %s = %v: value out of range", name, v)
		}
		out[i] = int(x)
	}
	return out, nil
}

func checkAutoPad(a attrs) (valid bool, err error) {
	s, err := a.str("auto_pad", "NOTSET")
	if err != nil {
		return false, err
	}
	switch s {
	case "NOTSET", "":
		return false, nil
	case "VALID":
		return true, nil
	}
	return false, &unsupportedErr{fmt.Sprintf("auto_pad %s (only NOTSET, with explicit pads)", quote(s))}
}

func (im *importer) conv(ref nodeRef, a attrs) error {
	x, err := im.act(ref, 0)
	if err != nil {
		return err
	}
	w, err := im.constF(ref, 1, "weight")
	if err != nil {
		return err
	}
	if w == nil {
		return fmt.Errorf("no weight input")
	}
	b, err := im.constF(ref, 2, "bias")
	if err != nil {
		return err
	}
	if len(w.dims) != 4 {
		return &unsupportedErr{fmt.Sprintf("weight of rank %d: only 2-D convolutions", len(w.dims))}
	}
	if len(x.shape) != 3 {
		return fmt.Errorf("input shape %v is not [C,H,W]", x.shape)
	}
	outC, inC, kh, kw := w.dims[0], w.dims[1], w.dims[2], w.dims[3]
	if outC == 0 || kh == 0 || kw == 0 {
		return fmt.Errorf("weight dims %v", w.dims)
	}
	if inC != x.shape[0] {
		group, _ := a.int("group", 1)
		if group != 1 {
			return &unsupportedErr{fmt.Sprintf("group %d (grouped or depthwise convolution)", group)}
		}
		return fmt.Errorf("weight dims %v expect %d input channels, the input has %d", w.dims, inC, x.shape[0])
	}
	if g, err := a.int("group", 1); err != nil {
		return err
	} else if g != 1 {
		return &unsupportedErr{fmt.Sprintf("group %d (grouped or depthwise convolution)", g)}
	}
	if d, err := geom(a, "dilations", []int64{1, 1}, 2, 1); err != nil {
		return err
	} else if d[0] != 1 || d[1] != 1 {
		return &unsupportedErr{fmt.Sprintf("dilations %v", d)}
	}
	k, err := geom(a, "kernel_shape", []int64{int64(kh), int64(kw)}, 2, 1)
	if err != nil {
		return err
	}
	if k[0] != kh || k[1] != kw {
		return fmt.Errorf("kernel_shape %v does not match weight dims %v", k, w.dims)
	}
	s, err := geom(a, "strides", []int64{1, 1}, 2, 1)
	if err != nil {
		return err
	}
	valid, err := checkAutoPad(a)
	if err != nil {
		return err
	}
	p, err := geom(a, "pads", []int64{0, 0, 0, 0}, 4, 0)
	if err != nil {
		return err
	}
	if valid && (p[0] != 0 || p[1] != 0 || p[2] != 0 || p[3] != 0) {
		return fmt.Errorf("auto_pad VALID with pads %v", p)
	}
	if p[0] != p[2] || p[1] != p[3] {
		return &unsupportedErr{fmt.Sprintf("asymmetric pads %v (begin and end must match per axis)", p)}
	}
	bias := make([]float32, outC)
	if b != nil {
		if len(b.data) != outC || len(b.dims) != 1 {
			return fmt.Errorf("bias dims %v, want [%d]", b.dims, outC)
		}
		copy(bias, b.data)
	}
	l := &network.Conv2d{
		LayerName: im.layerName("conv"),
		InC:       inC, OutC: outC, KH: kh, KW: kw,
		StrideH: s[0], StrideW: s[1], PadH: p[0], PadW: p[1],
		Weight: slices.Clone(w.data),
		Bias:   bias,
	}
	return im.addLayer(ref, x, l)
}

// lastLayer returns the layer whose direct output x is, if x is the output
// of the newest layer.
func (im *importer) lastLayer(x *value) network.Layer {
	if x.layer < 0 || x.layer != len(im.net.Layers)-1 {
		return nil
	}
	return im.net.Layers[x.layer]
}

// perChannel returns a weight's row layout: the number of output channels
// and the weights per channel, for the layer x is the direct output of.
func (im *importer) perChannel(x *value) (w, b []float32, ok bool) {
	switch l := im.lastLayer(x).(type) {
	case *network.Conv2d:
		return l.Weight, l.Bias, true
	case *network.Linear:
		return l.Weight, l.Bias, true
	}
	return nil, nil, false
}

func (im *importer) batchNorm(ref nodeRef, a attrs) error {
	x, err := im.act(ref, 0)
	if err != nil {
		return err
	}
	if tm, err := a.int("training_mode", 0); err != nil {
		return err
	} else if tm != 0 {
		return &unsupportedErr{"training_mode=1 (export the model in eval mode)"}
	}
	if sp, err := a.int("spatial", 1); err != nil {
		return err
	} else if sp != 1 {
		return &unsupportedErr{fmt.Sprintf("spatial=%d", sp)}
	}
	eps, err := a.float("epsilon", 1e-5)
	if err != nil {
		return err
	}
	c := x.shape[0]
	var params [4][]float32
	for i, what := range []string{"scale", "B", "mean", "var"} {
		t, err := im.constF(ref, i+1, what)
		if err != nil {
			return err
		}
		if t == nil {
			return fmt.Errorf("input %s missing", what)
		}
		if len(t.dims) != 1 || t.dims[0] != c {
			return fmt.Errorf("%s dims %v, want [%d] (one per channel)", what, t.dims, c)
		}
		params[i] = t.data
	}
	w, b, ok := im.perChannel(x)
	if !ok {
		return &unsupportedErr{"BatchNormalization that does not directly follow a Conv, Gemm or MatMul cannot be folded"}
	}
	if len(b) != c || len(w)%c != 0 {
		return fmt.Errorf("preceding layer has %d outputs, BatchNormalization has %d channels", len(b), c)
	}
	per := len(w) / c
	g, beta, mean, vr := params[0], params[1], params[2], params[3]
	for o := 0; o < c; o++ {
		d := float64(vr[o]) + float64(eps)
		if !(d > 0) {
			return fmt.Errorf("channel %d: var+epsilon = %v is not positive", o, d)
		}
		s := float64(g[o]) / math.Sqrt(d)
		for j := o * per; j < (o+1)*per; j++ {
			w[j] = float32(float64(w[j]) * s)
		}
		b[o] = float32((float64(b[o])-float64(mean[o]))*s + float64(beta[o]))
	}
	if err := finite(w, b); err != nil {
		return fmt.Errorf("folding into the preceding layer: %v", err)
	}
	return im.alias(ref, x)
}

func finite(s ...[]float32) error {
	for _, v := range s {
		for i, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return fmt.Errorf("parameter %d becomes %v", i, x)
			}
		}
	}
	return nil
}

func (im *importer) relu(ref nodeRef, a attrs) error {
	x, err := im.act(ref, 0)
	if err != nil {
		return err
	}
	return im.addLayer(ref, x, &network.ReLU{LayerName: im.layerName("relu")})
}

func (im *importer) avgPool(ref nodeRef, a attrs) error {
	x, err := im.act(ref, 0)
	if err != nil {
		return err
	}
	if len(x.shape) != 3 {
		return fmt.Errorf("input shape %v is not [C,H,W]", x.shape)
	}
	k, err := geom(a, "kernel_shape", nil, 2, 1)
	if err != nil {
		return err
	}
	s, err := geom(a, "strides", []int64{1, 1}, 2, 1)
	if err != nil {
		return err
	}
	if d, err := geom(a, "dilations", []int64{1, 1}, 2, 1); err != nil {
		return err
	} else if d[0] != 1 || d[1] != 1 {
		return &unsupportedErr{fmt.Sprintf("dilations %v", d)}
	}
	if _, err := checkAutoPad(a); err != nil {
		return err
	}
	p, err := geom(a, "pads", []int64{0, 0, 0, 0}, 4, 0)
	if err != nil {
		return err
	}
	if p[0] != 0 || p[1] != 0 || p[2] != 0 || p[3] != 0 {
		return &unsupportedErr{fmt.Sprintf("pads %v on AveragePool (evsnn's AvgPool2d has no padding)", p)}
	}
	if _, err := a.int("count_include_pad", 0); err != nil {
		return err // irrelevant without pads
	}
	h, w := x.shape[1], x.shape[2]
	if h < k[0] || w < k[1] {
		return fmt.Errorf("kernel %v larger than input %v", k, x.shape)
	}
	ceil, err := a.int("ceil_mode", 0)
	if err != nil {
		return err
	}
	if ceil != 0 && ((h-k[0])%s[0] != 0 || (w-k[1])%s[1] != 0) {
		return &unsupportedErr{fmt.Sprintf("ceil_mode=1 gives a larger output than floor mode for input %v, kernel %v, strides %v", x.shape, k, s)}
	}
	return im.addLayer(ref, x, &network.AvgPool2d{
		LayerName: im.layerName("pool"),
		KH:        k[0], KW: k[1], StrideH: s[0], StrideW: s[1],
	})
}

func (im *importer) globalAvgPool(ref nodeRef, a attrs) error {
	x, err := im.act(ref, 0)
	if err != nil {
		return err
	}
	if len(x.shape) != 3 {
		return fmt.Errorf("input shape %v is not [C,H,W]", x.shape)
	}
	h, w := x.shape[1], x.shape[2]
	return im.addLayer(ref, x, &network.AvgPool2d{LayerName: im.layerName("pool"), KH: h, KW: w, StrideH: h, StrideW: w})
}

func (im *importer) pad(ref nodeRef, a attrs) error {
	x, err := im.act(ref, 0)
	if err != nil {
		return err
	}
	var pads []int64
	if input(ref.nd, 1) != "" {
		t, err := im.constInts(ref, 1, "pads")
		if err != nil {
			return err
		}
		v, ok := t.known()
		if !ok {
			return &unsupportedErr{"pads depend on the batch size"}
		}
		pads = v
	} else {
		v, err := a.ints("pads")
		if err != nil {
			return err
		}
		if v == nil {
			return fmt.Errorf("no pads (neither input nor attribute)")
		}
		pads = v
	}
	for _, p := range pads {
		if p != 0 {
			if len(pads) > 16 {
				pads = pads[:16]
			}
			return &unsupportedErr{fmt.Sprintf("nonzero pads %v (only the all-zero Pad PyTorch writes before AveragePool)", pads)}
		}
	}
	if _, err := a.str("mode", "constant"); err != nil {
		return err // any mode: zero pads change nothing
	}
	return im.alias(ref, x)
}

// checkFlat checks that a Gemm or MatMul reads a vector per sample.
func (im *importer) checkFlat(x *value) error {
	if len(x.shape) != 1 {
		return fmt.Errorf("input shape %v is not a vector (missing Flatten?)", x.shape)
	}
	return nil
}

func (im *importer) gemm(ref nodeRef, a attrs) error {
	x, err := im.act(ref, 0)
	if err != nil {
		return err
	}
	if err := im.checkFlat(x); err != nil {
		return err
	}
	if ta, err := a.int("transA", 0); err != nil {
		return err
	} else if ta != 0 {
		return &unsupportedErr{fmt.Sprintf("transA=%d", ta)}
	}
	tb, err := a.int("transB", 0)
	if err != nil {
		return err
	}
	if tb != 0 && tb != 1 {
		return fmt.Errorf("transB=%d", tb)
	}
	alpha, err := a.float("alpha", 1)
	if err != nil {
		return err
	}
	beta, err := a.float("beta", 1)
	if err != nil {
		return err
	}
	bt, err := im.constF(ref, 1, "B")
	if err != nil {
		return err
	}
	if bt == nil {
		return fmt.Errorf("no B input")
	}
	if len(bt.dims) != 2 {
		return fmt.Errorf("B dims %v are not a matrix", bt.dims)
	}
	f := x.shape[0]
	var k int
	if tb == 1 {
		if bt.dims[1] != f {
			return fmt.Errorf("B dims %v with transB=1 do not fit %d input features", bt.dims, f)
		}
		k = bt.dims[0]
	} else {
		if bt.dims[0] != f {
			return fmt.Errorf("B dims %v with transB=0 do not fit %d input features", bt.dims, f)
		}
		k = bt.dims[1]
	}
	if k == 0 {
		return fmt.Errorf("B dims %v: no outputs", bt.dims)
	}
	c, err := im.constF(ref, 2, "C")
	if err != nil {
		return err
	}
	w := make([]float32, k*f)
	for o := 0; o < k; o++ {
		for i := 0; i < f; i++ {
			var v float32
			if tb == 1 {
				v = bt.data[o*f+i]
			} else {
				v = bt.data[i*k+o]
			}
			w[o*f+i] = float32(float64(alpha) * float64(v))
		}
	}
	bias := make([]float32, k)
	if c != nil {
		cb, err := biasVector(c, k)
		if err != nil {
			return fmt.Errorf("C: %v", err)
		}
		for o := range bias {
			bias[o] = float32(float64(beta) * float64(cb[o]))
		}
	}
	if err := finite(w, bias); err != nil {
		return fmt.Errorf("folding alpha=%v, beta=%v: %v", alpha, beta, err)
	}
	return im.addLayer(ref, x, &network.Linear{LayerName: im.layerName("fc"), In: f, Out: k, Weight: w, Bias: bias})
}

// biasVector broadcasts a bias tensor of dims [], [1], [K] or [1,K] to K
// values.
func biasVector(c *floatTensor, k int) ([]float32, error) {
	n := len(c.data)
	ones := 0
	for _, d := range c.dims {
		if d == 1 {
			ones++
		}
	}
	switch {
	case n == 1 && ones == len(c.dims) && len(c.dims) <= 2:
		out := make([]float32, k)
		for i := range out {
			out[i] = c.data[0]
		}
		return out, nil
	case n == k && len(c.dims) >= 1 && len(c.dims) <= 2 && c.dims[len(c.dims)-1] == k:
		return c.data, nil
	}
	return nil, &unsupportedErr{fmt.Sprintf("bias dims %v do not broadcast as a per-output bias of %d values", c.dims, k)}
}

func (im *importer) matMul(ref nodeRef, a attrs) error {
	x, err := im.act(ref, 0)
	if err != nil {
		return err
	}
	if err := im.checkFlat(x); err != nil {
		return err
	}
	bt, err := im.constF(ref, 1, "B")
	if err != nil {
		return err
	}
	if bt == nil {
		return fmt.Errorf("no B input")
	}
	f := x.shape[0]
	if len(bt.dims) != 2 || bt.dims[0] != f || bt.dims[1] == 0 {
		return fmt.Errorf("B dims %v do not fit %d input features", bt.dims, f)
	}
	k := bt.dims[1]
	w := make([]float32, k*f)
	for o := 0; o < k; o++ {
		for i := 0; i < f; i++ {
			w[o*f+i] = bt.data[i*k+o]
		}
	}
	return im.addLayer(ref, x, &network.Linear{LayerName: im.layerName("fc"), In: f, Out: k, Weight: w, Bias: make([]float32, k)})
}

// add folds Add(activation, constant) into the bias of the layer the
// activation comes straight from.
func (im *importer) add(ref nodeRef, a attrs) error {
	ai := 0
	if v, ok := im.values[input(ref.nd, 1)]; ok && v.kind == kindAct {
		ai = 1
	}
	if len(ref.nd.GetInput()) != 2 {
		return fmt.Errorf("%d inputs, want 2", len(ref.nd.GetInput()))
	}
	x, err := im.act(ref, ai)
	if err != nil {
		return err
	}
	c, err := im.constF(ref, 1-ai, "addend")
	if err != nil {
		return err
	}
	if c == nil {
		return fmt.Errorf("input %d missing", 1-ai)
	}
	var cb []float32
	switch l := im.lastLayer(x).(type) {
	case *network.Linear:
		cb, err = biasVector(c, l.Out)
		if err != nil {
			return err
		}
	case *network.Conv2d:
		// [C,1,1] or [1,C,1,1] (or a scalar) broadcasts per channel.
		dims := c.dims
		if len(dims) == 4 && dims[0] == 1 {
			dims = dims[1:]
		}
		switch {
		case len(c.data) == 1 && len(dims) <= 3:
			cb, _ = biasVector(&floatTensor{data: c.data}, l.OutC)
		case len(dims) == 3 && dims[0] == l.OutC && dims[1] == 1 && dims[2] == 1:
			cb = c.data
		default:
			return &unsupportedErr{fmt.Sprintf("Add of a constant of dims %v after a Conv: only a per-channel [C,1,1] bias is folded", c.dims)}
		}
	default:
		return &unsupportedErr{"Add of a constant that does not directly follow a Conv, Gemm or MatMul (only bias adds are folded)"}
	}
	_, b, _ := im.perChannel(x)
	for o := range b {
		b[o] = float32(float64(b[o]) + float64(cb[o]))
	}
	if err := finite(b); err != nil {
		return fmt.Errorf("adding to the bias: %v", err)
	}
	return im.alias(ref, x)
}

func (im *importer) flatten(ref nodeRef, a attrs) error {
	x, err := im.act(ref, 0)
	if err != nil {
		return err
	}
	axis, err := a.int("axis", 1)
	if err != nil {
		return err
	}
	rank := int64(len(x.shape) + 1)
	if axis < 0 {
		axis += rank
	}
	if axis != 1 {
		return &unsupportedErr{fmt.Sprintf("Flatten axis %d (only axis 1, keeping the batch)", axis)}
	}
	if len(x.shape) == 1 {
		return im.alias(ref, x)
	}
	return im.addLayer(ref, x, &network.Flatten{LayerName: im.layerName("flatten")})
}

// reshape accepts the reshapes that flatten each sample: to [N,-1],
// [N,C·H·W] or [-1,C·H·W], N being the batch size from a Shape chain, 0
// (copy), or the input's fixed batch; a reshape to the input's own shape is
// dropped.
func (im *importer) reshape(ref nodeRef, a attrs) error {
	x, err := im.act(ref, 0)
	if err != nil {
		return err
	}
	t, err := im.constInts(ref, 1, "shape")
	if err != nil {
		return err
	}
	if t == nil {
		return fmt.Errorf("no shape input")
	}
	allowZero, err := a.int("allowzero", 0)
	if err != nil {
		return err
	}
	if t.scalar {
		return fmt.Errorf("shape is a scalar")
	}
	full := append([]int{-2}, x.shape...) // -2: the batch
	size := int64(x.shape.Size())
	isBatch := func(i int, v symInt) bool {
		return v.batch || (v.v == 0 && allowZero == 0 && i == 0) || (im.staticBatch > 0 && v.v == im.staticBatch)
	}
	// resolve target dim i to a known size, or -2 for the batch.
	resolve := func(i int, v symInt) int64 {
		switch {
		case v.batch:
			return -2
		case v.v == 0 && allowZero == 0 && i < len(full):
			return int64(full[i])
		}
		return v.v
	}
	tv := t.vals
	bad := func() error {
		return &unsupportedErr{fmt.Sprintf("Reshape of %v to %v is not a flatten of each sample", x.shape, tv)}
	}
	if len(tv) == len(full) {
		same := true
		for i, v := range tv {
			r := resolve(i, v)
			if i == 0 {
				same = same && (r == -2 || isBatch(0, v) || r == -1)
			} else {
				same = same && r == int64(full[i])
			}
		}
		if same {
			return im.alias(ref, x)
		}
	}
	if len(tv) != 2 {
		return bad()
	}
	r0, r1 := resolve(0, tv[0]), resolve(1, tv[1])
	switch {
	case r0 == -1 && r1 == size:
	case isBatch(0, tv[0]) && (r1 == -1 || r1 == size):
	default:
		return bad()
	}
	if len(x.shape) == 1 {
		return im.alias(ref, x)
	}
	return im.addLayer(ref, x, &network.Flatten{LayerName: im.layerName("flatten")})
}

func (im *importer) identity(ref nodeRef, a attrs) error {
	name := input(ref.nd, 0)
	v, ok := im.values[name]
	if !ok {
		if t, ok := im.inits[name]; ok {
			// A renamed initializer (PyTorch writes this for shared
			// weights): the output names the same tensor.
			outs := ref.nd.GetOutput()
			if len(outs) != 1 || outs[0] == "" {
				return fmt.Errorf("want exactly one output")
			}
			im.inits[outs[0]] = t
			return nil
		}
		return fmt.Errorf("input %s has no value", quote(name))
	}
	if v.kind != kindAct {
		return im.output(ref, v)
	}
	x, err := im.act(ref, 0)
	if err != nil {
		return err
	}
	return im.alias(ref, x)
}

func (im *importer) dropout(ref nodeRef, a attrs) error {
	x, err := im.act(ref, 0)
	if err != nil {
		return err
	}
	if input(ref.nd, 2) != "" {
		t, err := im.constInts(ref, 2, "training_mode")
		if err != nil {
			return err
		}
		v, ok := t.known()
		if !ok || len(v) != 1 || v[0] != 0 {
			return &unsupportedErr{"Dropout in training mode (export the model in eval mode)"}
		}
	}
	return im.alias(ref, x)
}

func (im *importer) constant(ref nodeRef, a attrs) error {
	if len(a) != 1 {
		return fmt.Errorf("%d value attributes, want exactly one", len(a))
	}
	var v *value
	for name, at := range a {
		switch name {
		case "value":
			t := at.GetT()
			if t == nil {
				return fmt.Errorf("attribute value holds no tensor")
			}
			switch t.GetDataType() {
			case int32(onnxpb.TensorProto_FLOAT):
				ft, err := decodeFloat(t)
				if err != nil {
					return err
				}
				v = &value{kind: kindFloat, f: ft}
			default:
				it, err := decodeInt(t)
				if err != nil {
					return err
				}
				v = &value{kind: kindInt, i: it}
			}
		case "value_float":
			f, err := a.float(name, 0)
			if err != nil {
				return err
			}
			v = &value{kind: kindFloat, f: &floatTensor{dims: network.Shape{}, data: []float32{f}}}
		case "value_floats":
			fs := at.GetFloats()
			if len(fs) > maxIntElements {
				return fmt.Errorf("value_floats with %d values", len(fs))
			}
			v = &value{kind: kindFloat, f: &floatTensor{dims: network.Shape{len(fs)}, data: slices.Clone(fs)}}
		case "value_int":
			i, err := a.int(name, 0)
			if err != nil {
				return err
			}
			v = &value{kind: kindInt, i: &intTensor{scalar: true, vals: []symInt{{v: i}}}}
		case "value_ints":
			is := at.GetInts()
			if len(is) > maxIntElements {
				return fmt.Errorf("value_ints with %d values", len(is))
			}
			it := &intTensor{vals: make([]symInt, len(is))}
			for i, x := range is {
				it.vals[i].v = x
			}
			v = &value{kind: kindInt, i: it}
		default:
			return &unsupportedErr{fmt.Sprintf("Constant with attribute %s", name)}
		}
	}
	return im.output(ref, v)
}

// shape gives the input's shape with the batch size symbolic.
func (im *importer) shape(ref nodeRef, a attrs) error {
	name := input(ref.nd, 0)
	x, ok := im.values[name]
	if !ok || x.kind != kindAct {
		return &unsupportedErr{fmt.Sprintf("Shape of %s, which is not the activation", quote(name))}
	}
	full := make([]symInt, 0, len(x.shape)+1)
	full = append(full, symInt{batch: true})
	for _, d := range x.shape {
		full = append(full, symInt{v: int64(d)})
	}
	r := int64(len(full))
	start, err := a.int("start", 0)
	if err != nil {
		return err
	}
	end, err := a.int("end", r)
	if err != nil {
		return err
	}
	clamp := func(i int64) int64 {
		if i < 0 {
			i += r
		}
		return max(0, min(i, r))
	}
	start, end = clamp(start), clamp(end)
	var vals []symInt
	if start < end {
		vals = slices.Clone(full[start:end])
	}
	return im.output(ref, &value{kind: kindInt, i: &intTensor{vals: vals}})
}

func (im *importer) gather(ref nodeRef, a attrs) error {
	data, err := im.constInts(ref, 0, "data")
	if err != nil {
		return err
	}
	if data == nil || data.scalar {
		return &unsupportedErr{"Gather from something other than a shape vector"}
	}
	if axis, err := a.int("axis", 0); err != nil {
		return err
	} else if axis != 0 && axis != -1 {
		return fmt.Errorf("axis %d of a vector", axis)
	}
	idx, err := im.constInts(ref, 1, "indices")
	if err != nil {
		return err
	}
	if idx == nil {
		return fmt.Errorf("no indices")
	}
	iv, ok := idx.known()
	if !ok {
		return &unsupportedErr{"indices depend on the batch size"}
	}
	n := int64(len(data.vals))
	out := &intTensor{scalar: idx.scalar, vals: make([]symInt, len(iv))}
	for j, i := range iv {
		if i < 0 {
			i += n
		}
		if i < 0 || i >= n {
			return fmt.Errorf("index %d out of range for %d values", iv[j], n)
		}
		out.vals[j] = data.vals[i]
	}
	return im.output(ref, &value{kind: kindInt, i: out})
}

func (im *importer) unsqueeze(ref nodeRef, a attrs) error {
	data, err := im.constInts(ref, 0, "data")
	if err != nil {
		return err
	}
	if data == nil {
		return fmt.Errorf("no data input")
	}
	var axes []int64
	if input(ref.nd, 1) != "" {
		t, err := im.constInts(ref, 1, "axes")
		if err != nil {
			return err
		}
		v, ok := t.known()
		if !ok {
			return &unsupportedErr{"axes depend on the batch size"}
		}
		axes = v
	} else if axes, err = a.ints("axes"); err != nil {
		return err
	}
	if !data.scalar || len(axes) != 1 || (axes[0] != 0 && axes[0] != -1) {
		return &unsupportedErr{fmt.Sprintf("Unsqueeze of a shape value other than a scalar to a vector (axes %v)", axes)}
	}
	return im.output(ref, &value{kind: kindInt, i: &intTensor{vals: slices.Clone(data.vals)}})
}

func (im *importer) concat(ref nodeRef, a attrs) error {
	if axis, err := a.int("axis", 0); err != nil {
		return err
	} else if axis != 0 && axis != -1 {
		return &unsupportedErr{fmt.Sprintf("Concat on axis %d of shape vectors", axis)}
	}
	out := &intTensor{}
	for i := range ref.nd.GetInput() {
		t, err := im.constInts(ref, i, "input")
		if err != nil {
			return err
		}
		if t == nil {
			continue
		}
		if t.scalar {
			return fmt.Errorf("input %d is a scalar", i)
		}
		if len(out.vals)+len(t.vals) > maxIntElements {
			return fmt.Errorf("result longer than %d", maxIntElements)
		}
		out.vals = append(out.vals, t.vals...)
	}
	return im.output(ref, &value{kind: kindInt, i: out})
}
