package onnx_test

// Helpers that build small ONNX models in Go, the way PyTorch's exporter
// writes them, and a naive float64 evaluator of the (unfolded) ONNX graph
// to check the imported networks against.

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/evsnn/evsnn/format/onnx/onnxpb"
)

// graphBuilder accumulates a graph.
type graphBuilder struct {
	g     *pb.GraphProto
	opset int64
	rng   *rand.Rand
	n     int // node counter for names
}

// newGraph starts a graph with input "input" of dims [batch, dims...].
func newGraph(opset int64, seed uint64, dims ...int64) *graphBuilder {
	shape := &pb.TensorShapeProto{Dim: []*pb.TensorShapeProto_Dimension{
		{Value: &pb.TensorShapeProto_Dimension_DimParam{DimParam: "batch"}},
	}}
	for _, d := range dims {
		shape.Dim = append(shape.Dim, &pb.TensorShapeProto_Dimension{Value: &pb.TensorShapeProto_Dimension_DimValue{DimValue: d}})
	}
	return &graphBuilder{
		g: &pb.GraphProto{
			Name: proto.String("test"),
			Input: []*pb.ValueInfoProto{{
				Name: proto.String("input"),
				Type: &pb.TypeProto{Value: &pb.TypeProto_TensorType{TensorType: &pb.TypeProto_Tensor{
					ElemType: proto.Int32(int32(pb.TensorProto_FLOAT)), Shape: shape}}},
			}},
		},
		opset: opset,
		rng:   rand.New(rand.NewPCG(seed, 7)),
	}
}

// node appends a node; its name is "/<op><n>" and, unless outs is given,
// its output "<name>_output_0". It returns the first output's name.
func (b *graphBuilder) node(op string, ins []string, at ...*pb.AttributeProto) string {
	b.n++
	name := fmt.Sprintf("/%s%d", op, b.n)
	out := name + "_output_0"
	b.g.Node = append(b.g.Node, &pb.NodeProto{Name: proto.String(name), OpType: proto.String(op),
		Input: ins, Output: []string{out}, Attribute: at})
	return out
}

// lastNode is the most recently added node.
func (b *graphBuilder) lastNode() *pb.NodeProto { return b.g.Node[len(b.g.Node)-1] }

func dims64(d []int) []int64 {
	out := make([]int64, len(d))
	for i, v := range d {
		out[i] = int64(v)
	}
	return out
}

func rawFloats(v []float32) []byte {
	raw := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(x))
	}
	return raw
}

// floatTensor makes a FLOAT tensor stored as raw_data.
func floatTensor(name string, dims []int64, v []float32) *pb.TensorProto {
	return &pb.TensorProto{Name: proto.String(name), Dims: dims,
		DataType: proto.Int32(int32(pb.TensorProto_FLOAT)), RawData: rawFloats(v)}
}

// intTensor makes an INT64 tensor stored as raw_data (rank 1, or rank 0
// if scalar).
func intTensor(name string, scalar bool, v ...int64) *pb.TensorProto {
	raw := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(x))
	}
	t := &pb.TensorProto{Name: proto.String(name), DataType: proto.Int32(int32(pb.TensorProto_INT64)), RawData: raw}
	if !scalar {
		t.Dims = []int64{int64(len(v))}
	}
	return t
}

// weight adds an initializer of random values in [lo, hi).
func (b *graphBuilder) weight(name string, lo, hi float64, dims ...int64) string {
	n := 1
	for _, d := range dims {
		n *= int(d)
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(lo + (hi-lo)*b.rng.Float64())
	}
	b.g.Initializer = append(b.g.Initializer, floatTensor(name, dims, v))
	return name
}

// ints adds an INT64 initializer.
func (b *graphBuilder) ints(name string, v ...int64) string {
	b.g.Initializer = append(b.g.Initializer, intTensor(name, false, v...))
	return name
}

// constInts adds a Constant node holding an INT64 vector (or scalar).
func (b *graphBuilder) constInts(scalar bool, v ...int64) string {
	return b.node("Constant", nil, aTensor("value", intTensor("", scalar, v...)))
}

// model wraps the graph with output out.
func (b *graphBuilder) model(out string) *pb.ModelProto {
	b.g.Output = []*pb.ValueInfoProto{{Name: proto.String(out),
		Type: &pb.TypeProto{Value: &pb.TypeProto_TensorType{TensorType: &pb.TypeProto_Tensor{
			ElemType: proto.Int32(int32(pb.TensorProto_FLOAT))}}}}}
	return &pb.ModelProto{
		IrVersion:       proto.Int64(7),
		ProducerName:    proto.String("evsnn-test"),
		OpsetImport:     []*pb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(b.opset)}},
		Graph:           b.g,
		ProducerVersion: proto.String("0"),
	}
}

func marshal(t testing.TB, m *pb.ModelProto) []byte {
	t.Helper()
	data, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func aInts(name string, v ...int64) *pb.AttributeProto {
	return &pb.AttributeProto{Name: proto.String(name), Type: pb.AttributeProto_INTS.Enum(), Ints: v}
}

func aInt(name string, v int64) *pb.AttributeProto {
	return &pb.AttributeProto{Name: proto.String(name), Type: pb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

func aFloat(name string, v float32) *pb.AttributeProto {
	return &pb.AttributeProto{Name: proto.String(name), Type: pb.AttributeProto_FLOAT.Enum(), F: proto.Float32(v)}
}

func aStr(name, v string) *pb.AttributeProto {
	return &pb.AttributeProto{Name: proto.String(name), Type: pb.AttributeProto_STRING.Enum(), S: []byte(v)}
}

func aTensor(name string, t *pb.TensorProto) *pb.AttributeProto {
	return &pb.AttributeProto{Name: proto.String(name), Type: pb.AttributeProto_TENSOR.Enum(), T: t}
}

// conv adds a Conv as PyTorch writes it (all attributes spelled out).
func (b *graphBuilder) conv(x string, in, out, k, stride, pad int64, bias bool) string {
	b.n++
	w := b.weight(fmt.Sprintf("conv%d.weight", b.n), -0.4, 0.4, out, in, k, k)
	ins := []string{x, w}
	if bias {
		ins = append(ins, b.weight(fmt.Sprintf("conv%d.bias", b.n), -0.2, 0.2, out))
	}
	return b.node("Conv", ins, aInts("dilations", 1, 1), aInt("group", 1), aInts("kernel_shape", k, k),
		aInts("pads", pad, pad, pad, pad), aInts("strides", stride, stride))
}

// gemm adds a Gemm with transB=1, alpha=beta=1, as PyTorch writes nn.Linear.
func (b *graphBuilder) gemm(x string, in, out int64) string {
	b.n++
	w := b.weight(fmt.Sprintf("fc%d.weight", b.n), -0.4, 0.4, out, in)
	bias := b.weight(fmt.Sprintf("fc%d.bias", b.n), -0.2, 0.2, out)
	return b.node("Gemm", []string{x, w, bias}, aFloat("alpha", 1), aFloat("beta", 1), aInt("transB", 1))
}

// avgPool adds PyTorch's Pad (zero pads from a Constant) + AveragePool.
func (b *graphBuilder) avgPool(x string, k int64) string {
	pads := b.constInts(false, 0, 0, 0, 0, 0, 0, 0, 0)
	p := b.node("Pad", []string{x, pads}, aStr("mode", "constant"))
	return b.node("AveragePool", []string{p}, aInt("ceil_mode", 0), aInts("kernel_shape", k, k),
		aInts("pads", 0, 0, 0, 0), aInts("strides", k, k))
}

// viewFlatten adds the x.view(x.size(0), -1) chain of PyTorch opset 13.
func (b *graphBuilder) viewFlatten(x string) string {
	shape := b.node("Shape", []string{x})
	zero := b.constInts(true, 0)
	g := b.node("Gather", []string{shape, zero}, aInt("axis", 0))
	var u string
	if b.opset >= 13 {
		axes := b.constInts(false, 0)
		u = b.node("Unsqueeze", []string{g, axes})
	} else {
		u = b.node("Unsqueeze", []string{g}, aInts("axes", 0))
	}
	m1 := b.constInts(false, -1)
	c := b.node("Concat", []string{u, m1}, aInt("axis", 0))
	if b.opset >= 14 {
		return b.node("Reshape", []string{x, c}, aInt("allowzero", 0))
	}
	return b.node("Reshape", []string{x, c})
}

// ---- reference evaluator ----

// tens is a float64 tensor (integer tensors are held as float64 too).
type tens struct {
	dims []int
	d    []float64
}

func size(dims []int) int {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}

func tensorValue(t *testing.T, tp *pb.TensorProto) tens {
	t.Helper()
	dims := make([]int, len(tp.GetDims()))
	for i, d := range tp.GetDims() {
		dims[i] = int(d)
	}
	n := size(dims)
	out := tens{dims: dims, d: make([]float64, n)}
	raw := tp.GetRawData()
	switch pb.TensorProto_DataType(tp.GetDataType()) {
	case pb.TensorProto_FLOAT:
		for i := range out.d {
			if raw != nil {
				out.d[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])))
			} else {
				out.d[i] = float64(tp.GetFloatData()[i])
			}
		}
	case pb.TensorProto_INT64:
		for i := range out.d {
			if raw != nil {
				out.d[i] = float64(int64(binary.LittleEndian.Uint64(raw[8*i:])))
			} else {
				out.d[i] = float64(tp.GetInt64Data()[i])
			}
		}
	default:
		t.Fatalf("reference: tensor %q of type %d", tp.GetName(), tp.GetDataType())
	}
	return out
}

type refAttrs map[string]*pb.AttributeProto

func (a refAttrs) i(name string, def int64) int64 {
	if at, ok := a[name]; ok {
		return at.GetI()
	}
	return def
}

func (a refAttrs) f(name string, def float64) float64 {
	if at, ok := a[name]; ok {
		return float64(at.GetF())
	}
	return def
}

func (a refAttrs) ints(name string, def ...int64) []int {
	v := def
	if at, ok := a[name]; ok {
		v = at.GetInts()
	}
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}

// reference evaluates the model's graph naively in float64 on input x
// (batch samples) and returns the output tensor.
func reference(t *testing.T, m *pb.ModelProto, x []float32, batch int) tens {
	t.Helper()
	g := m.GetGraph()
	vals := map[string]tens{}
	for _, in := range g.GetInitializer() {
		vals[in.GetName()] = tensorValue(t, in)
	}
	dims := []int{batch}
	for _, d := range g.GetInput()[0].GetType().GetTensorType().GetShape().GetDim()[1:] {
		dims = append(dims, int(d.GetDimValue()))
	}
	in := tens{dims: dims, d: make([]float64, len(x))}
	for i, v := range x {
		in.d[i] = float64(v)
	}
	vals[g.GetInput()[0].GetName()] = in
	for _, nd := range g.GetNode() {
		a := refAttrs{}
		for _, at := range nd.GetAttribute() {
			a[at.GetName()] = at
		}
		var ins []tens
		for _, name := range nd.GetInput() {
			if name == "" {
				ins = append(ins, tens{})
				continue
			}
			v, ok := vals[name]
			if !ok {
				t.Fatalf("reference: %s: no value %q", nd.GetName(), name)
			}
			ins = append(ins, v)
		}
		vals[nd.GetOutput()[0]] = refOp(t, nd.GetOpType(), a, ins)
	}
	return vals[g.GetOutput()[0].GetName()]
}

func refOp(t *testing.T, op string, a refAttrs, in []tens) tens {
	switch op {
	case "Identity", "Dropout":
		return in[0]
	case "Constant":
		return tensorValue(t, a["value"].GetT())
	case "Relu":
		out := tens{dims: in[0].dims, d: make([]float64, len(in[0].d))}
		for i, v := range in[0].d {
			out.d[i] = math.Max(0, v)
		}
		return out
	case "Conv":
		return refConv(in[0], in[1], in, a)
	case "BatchNormalization":
		x := in[0]
		eps := a.f("epsilon", 1e-5)
		c := x.dims[1]
		per := size(x.dims[2:])
		out := tens{dims: x.dims, d: make([]float64, len(x.d))}
		for i, v := range x.d {
			ch := (i / per) % c
			out.d[i] = (v-in[3].d[ch])/math.Sqrt(in[4].d[ch]+eps)*in[1].d[ch] + in[2].d[ch]
		}
		return out
	case "Pad":
		var pads []int
		if len(in) > 1 && in[1].d != nil {
			for _, v := range in[1].d {
				pads = append(pads, int(v))
			}
		} else {
			pads = a.ints("pads")
		}
		return refPad(in[0], pads)
	case "AveragePool":
		return refAvgPool(in[0], a.ints("kernel_shape"), a.ints("strides", 1, 1))
	case "GlobalAveragePool":
		return refAvgPool(in[0], in[0].dims[2:], in[0].dims[2:])
	case "Flatten":
		axis := int(a.i("axis", 1))
		if axis < 0 {
			axis += len(in[0].dims)
		}
		return tens{dims: []int{size(in[0].dims[:axis]), size(in[0].dims[axis:])}, d: in[0].d}
	case "Reshape":
		target := make([]int, len(in[1].d))
		neg := -1
		for i, v := range in[1].d {
			target[i] = int(v)
			if target[i] == 0 {
				target[i] = in[0].dims[i]
			}
			if target[i] == -1 {
				neg = i
			}
		}
		if neg >= 0 {
			target[neg] = 1
			target[neg] = len(in[0].d) / size(target)
		}
		if size(target) != len(in[0].d) {
			t.Fatalf("reference: Reshape %v to %v", in[0].dims, target)
		}
		return tens{dims: target, d: in[0].d}
	case "Shape":
		out := tens{dims: []int{len(in[0].dims)}}
		for _, d := range in[0].dims {
			out.d = append(out.d, float64(d))
		}
		return out
	case "Gather":
		out := tens{dims: in[1].dims}
		for _, i := range in[1].d {
			out.d = append(out.d, in[0].d[int(i)])
		}
		return out
	case "Unsqueeze":
		return tens{dims: []int{len(in[0].d)}, d: in[0].d}
	case "Concat":
		var out tens
		for _, x := range in {
			out.d = append(out.d, x.d...)
		}
		out.dims = []int{len(out.d)}
		return out
	case "Gemm":
		return refGemm(in, a.i("transB", 0) == 1, a.f("alpha", 1), a.f("beta", 1))
	case "MatMul":
		return refGemm(in[:2], false, 1, 1)
	case "Add":
		return refAdd(in[0], in[1])
	}
	t.Fatalf("reference: op %s", op)
	return tens{}
}

func refConv(x, w tens, in []tens, a refAttrs) tens {
	n, c, h, wd := x.dims[0], x.dims[1], x.dims[2], x.dims[3]
	m, kh, kw := w.dims[0], w.dims[2], w.dims[3]
	s := a.ints("strides", 1, 1)
	p := a.ints("pads", 0, 0, 0, 0)
	oh := (h+p[0]+p[2]-kh)/s[0] + 1
	ow := (wd+p[1]+p[3]-kw)/s[1] + 1
	out := tens{dims: []int{n, m, oh, ow}, d: make([]float64, n*m*oh*ow)}
	for b := 0; b < n; b++ {
		for o := 0; o < m; o++ {
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					sum := 0.0
					if len(in) > 2 && in[2].d != nil {
						sum = in[2].d[o]
					}
					for ci := 0; ci < c; ci++ {
						for ky := 0; ky < kh; ky++ {
							for kx := 0; kx < kw; kx++ {
								iy, ix := oy*s[0]-p[0]+ky, ox*s[1]-p[1]+kx
								if iy < 0 || iy >= h || ix < 0 || ix >= wd {
									continue
								}
								sum += x.d[((b*c+ci)*h+iy)*wd+ix] * w.d[((o*c+ci)*kh+ky)*kw+kx]
							}
						}
					}
					out.d[((b*m+o)*oh+oy)*ow+ox] = sum
				}
			}
		}
	}
	return out
}

func refPad(x tens, pads []int) tens {
	r := len(x.dims)
	od := make([]int, r)
	for i := range od {
		od[i] = x.dims[i] + pads[i] + pads[i+r]
	}
	out := tens{dims: od, d: make([]float64, size(od))}
	idx := make([]int, r)
	for i, v := range x.d {
		rem := i
		for k := r - 1; k >= 0; k-- {
			idx[k] = rem % x.dims[k]
			rem /= x.dims[k]
		}
		o := 0
		for k := 0; k < r; k++ {
			o = o*od[k] + idx[k] + pads[k]
		}
		out.d[o] = v
	}
	return out
}

func refAvgPool(x tens, k, s []int) tens {
	n, c, h, w := x.dims[0], x.dims[1], x.dims[2], x.dims[3]
	oh, ow := (h-k[0])/s[0]+1, (w-k[1])/s[1]+1
	out := tens{dims: []int{n, c, oh, ow}, d: make([]float64, n*c*oh*ow)}
	for bc := 0; bc < n*c; bc++ {
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				sum := 0.0
				for ky := 0; ky < k[0]; ky++ {
					for kx := 0; kx < k[1]; kx++ {
						sum += x.d[(bc*h+oy*s[0]+ky)*w+ox*s[1]+kx]
					}
				}
				out.d[(bc*oh+oy)*ow+ox] = sum / float64(k[0]*k[1])
			}
		}
	}
	return out
}

// refGemm computes alpha·A·op(B) + beta·C with A [N,F].
func refGemm(in []tens, transB bool, alpha, beta float64) tens {
	a, b := in[0], in[1]
	n, f := a.dims[0], a.dims[1]
	k := b.dims[1]
	if transB {
		k = b.dims[0]
	}
	out := tens{dims: []int{n, k}, d: make([]float64, n*k)}
	for i := 0; i < n; i++ {
		for o := 0; o < k; o++ {
			sum := 0.0
			for j := 0; j < f; j++ {
				bv := b.d[j*k+o]
				if transB {
					bv = b.d[o*f+j]
				}
				sum += a.d[i*f+j] * bv
			}
			out.d[i*k+o] = alpha * sum
		}
	}
	if len(in) > 2 && in[2].d != nil {
		c := refAdd(tens{dims: out.dims, d: make([]float64, len(out.d))}, in[2])
		for i := range out.d {
			out.d[i] += beta * c.d[i]
		}
	}
	return out
}

// refAdd adds with numpy broadcasting.
func refAdd(x, y tens) tens {
	if len(y.d) > len(x.d) {
		x, y = y, x
	}
	r := len(x.dims)
	yd := make([]int, r)
	for i := range yd {
		yd[i] = 1
	}
	copy(yd[r-len(y.dims):], y.dims)
	out := tens{dims: x.dims, d: make([]float64, len(x.d))}
	idx := make([]int, r)
	for i, v := range x.d {
		rem := i
		for k := r - 1; k >= 0; k-- {
			idx[k] = rem % x.dims[k]
			rem /= x.dims[k]
		}
		o := 0
		for k := 0; k < r; k++ {
			o = o*yd[k] + idx[k]%yd[k]
		}
		out.d[i] = v + y.d[o]
	}
	return out
}
