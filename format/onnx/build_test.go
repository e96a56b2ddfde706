package onnx_test

// Helpers that build small ONNX models in Go, the way PyTorch's exporter
// writes them, and a naive float64 evaluator of the (unfolded) ONNX graph
// to check the imported networks against.

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
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
	// scope, if set, names the nodes as PyTorch does inside a module:
	// "/" + scope + "/" + op, with "_k" for the k-th further node of that
	// op in that scope ("/" for the top level).
	scope string
	calls map[string]int
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

// node appends a node; its name is "/<op><n>" (or as scope says) and its
// output "<name>_output_0". It returns the output's name.
func (b *graphBuilder) node(op string, ins []string, at ...*pb.AttributeProto) string {
	b.n++
	name := fmt.Sprintf("/%s%d", op, b.n)
	if b.scope != "" {
		key := strings.TrimPrefix(b.scope+"/"+op, "//")
		if b.calls == nil {
			b.calls = map[string]int{}
		}
		name = "/" + key
		if k := b.calls[key]; k > 0 {
			name += fmt.Sprintf("_%d", k)
		}
		b.calls[key]++
	}
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
