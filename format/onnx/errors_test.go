package onnx_test

import (
	"errors"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/evsnn/evsnn/format/onnx"
	pb "github.com/evsnn/evsnn/format/onnx/onnxpb"
)

// small builds conv → relu → flatten → gemm on [N,1,4,4]; edit may change
// the graph builder between the conv and the rest.
func small(edit func(b *graphBuilder, x string) string) *pb.ModelProto {
	b := newGraph(13, 99, 1, 4, 4)
	x := b.conv("input", 1, 2, 3, 1, 1, true)
	x = b.node("Relu", []string{x})
	if edit != nil {
		x = edit(b, x)
	}
	x = b.node("Flatten", []string{x})
	return b.model(b.gemm(x, 32, 3))
}

// findInit returns the initializer whose name matches the pattern.
func findInit(m *pb.ModelProto, pattern string) *pb.TensorProto {
	for _, t := range m.GetGraph().GetInitializer() {
		if ok, _ := path.Match(pattern, t.GetName()); ok {
			return t
		}
	}
	panic("no initializer " + pattern)
}

func TestDecodeErrors(t *testing.T) {
	fixture, err := os.ReadFile(fixtureModel)
	if err != nil {
		t.Fatal(err)
	}
	type tc struct {
		name        string
		data        func(t *testing.T) []byte
		want        []string // substrings of the message
		unsupported bool
	}
	model := func(f func() *pb.ModelProto) func(t *testing.T) []byte {
		return func(t *testing.T) []byte { return marshal(t, f()) }
	}
	edit := func(f func(b *graphBuilder, x string) string) func(t *testing.T) []byte {
		return model(func() *pb.ModelProto { return small(f) })
	}
	mutate := func(f func(m *pb.ModelProto)) func(t *testing.T) []byte {
		return model(func() *pb.ModelProto { m := small(nil); f(m); return m })
	}
	bytesOf := func(b []byte) func(t *testing.T) []byte { return func(*testing.T) []byte { return b } }
	cases := []tc{
		{"sigmoid", edit(func(b *graphBuilder, x string) string {
			b.node("Sigmoid", []string{x})
			b.lastNode().Name = proto.String("/act/Sigmoid")
			return b.lastNode().Output[0]
		}), []string{`node "/act/Sigmoid" (Sigmoid)`, "op type Sigmoid is not supported"}, true},
		{"residual-add-without-relu", edit(func(b *graphBuilder, x string) string {
			y := b.conv(x, 2, 2, 3, 1, 1, true)
			b.node("Add", []string{x, y})
			return b.lastNode().Output[0]
		}), []string{`node "/Add6" (Add)`, "an Add must be followed by a ReLU"}, true},
		{"dangling-branch", edit(func(b *graphBuilder, x string) string {
			b.conv(x, 2, 2, 3, 1, 1, true)
			return b.conv(x, 2, 2, 3, 1, 1, true)
		}), []string{`node "/Conv5" (Conv)`, "does not reach the graph output", "dangling"}, true},
		{"other-domain", edit(func(b *graphBuilder, x string) string {
			y := b.node("Relu", []string{x})
			b.lastNode().Domain = proto.String("com.microsoft")
			return y
		}), []string{"(Relu)", `domain "com.microsoft"`}, true},
		{"external-data", mutate(func(m *pb.ModelProto) {
			w := findInit(m, "fc*.weight")
			w.RawData = nil
			w.DataLocation = pb.TensorProto_EXTERNAL.Enum()
			w.ExternalData = []*pb.StringStringEntryProto{{Key: proto.String("location"), Value: proto.String("weights.bin")}}
		}), []string{`initializer "fc5.weight"`, "external", "(Gemm)"}, true},
		{"garbage", bytesOf([]byte("this is a text file, not a model\n")), []string{"not an ONNX model"}, false},
		{"png", bytesOf([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10")), []string{"not an ONNX model"}, false},
		{"empty", bytesOf(nil), []string{"empty"}, false},
		{"valid-proto-not-model", bytesOf([]byte{0x08, 0x01}), []string{"not an ONNX model"}, false},
		{"truncated", bytesOf(fixture[:len(fixture)-5]), []string{"not an ONNX model (or a truncated one)"}, false},
		{"nan-weight", mutate(func(m *pb.ModelProto) {
			w := findInit(m, "conv1.weight")
			copy(w.RawData[8:], []byte{0, 0, 0xc0, 0x7f})
		}), []string{`initializer "conv1.weight"`, "value 2 is NaN"}, false},
		{"inf-float-data", mutate(func(m *pb.ModelProto) {
			w := findInit(m, "conv1.bias")
			w.RawData = nil
			w.FloatData = []float32{1, float32(posInf())}
		}), []string{`initializer "conv1.bias"`, "value 1 is +Inf"}, false},
		{"dims-mismatch", mutate(func(m *pb.ModelProto) {
			findInit(m, "conv1.weight").Dims = []int64{2, 1, 3, 4}
		}), []string{`initializer "conv1.weight"`, "72 bytes of raw_data", "need 96"}, false},
		{"float-data-count", mutate(func(m *pb.ModelProto) {
			w := findInit(m, "conv1.bias")
			w.RawData = nil
			w.FloatData = []float32{1, 2, 3}
		}), []string{`initializer "conv1.bias"`, "3 float_data values", "need 2"}, false},
		{"absurd-dims", mutate(func(m *pb.ModelProto) {
			findInit(m, "fc*.weight").Dims = []int64{1 << 20, 1 << 20}
		}), []string{`initializer "fc5.weight"`, "more than 2147483647 elements"}, false},
		{"absurd-input", mutate(func(m *pb.ModelProto) {
			d := m.Graph.Input[0].Type.GetTensorType().Shape.Dim
			d[2].Value = &pb.TensorShapeProto_Dimension_DimValue{DimValue: 1 << 20}
			d[3].Value = &pb.TensorShapeProto_Dimension_DimValue{DimValue: 1 << 20}
		}), []string{`input "input"`, "more than"}, false},
		{"double-weights", mutate(func(m *pb.ModelProto) {
			w := findInit(m, "conv1.bias")
			w.DataType = proto.Int32(int32(pb.TensorProto_DOUBLE))
			w.RawData = make([]byte, 16)
		}), []string{`initializer "conv1.bias"`, "DOUBLE"}, true},
		{"missing-initializer", mutate(func(m *pb.ModelProto) {
			g := m.Graph
			for i, t := range g.Initializer {
				if t.GetName() == "fc5.bias" {
					g.Initializer = append(g.Initializer[:i], g.Initializer[i+1:]...)
					break
				}
			}
		}), []string{"(Gemm)", `input "fc5.bias" is not produced`, "missing initializer"}, false},
		{"cycle", mutate(func(m *pb.ModelProto) {
			// Relu reads the output of Flatten, which reads the Relu.
			g := m.Graph
			g.Node[1].Input[0] = g.Node[2].Output[0]
		}), []string{"cycle"}, false},
		{"nonzero-pad", edit(func(b *graphBuilder, x string) string {
			return b.node("Pad", []string{x, b.ints("p", 0, 0, 1, 1, 0, 0, 1, 1)})
		}), []string{"(Pad)", "nonzero pads [0 0 1 1 0 0 1 1]"}, true},
		{"asymmetric-conv-pads", mutate(func(m *pb.ModelProto) {
			m.Graph.Node[0].Attribute[3] = aInts("pads", 1, 1, 0, 0)
		}), []string{"(Conv)", "asymmetric pads [1 1 0 0]"}, true},
		{"group", mutate(func(m *pb.ModelProto) {
			m.Graph.Node[0].Attribute[1] = aInt("group", 2)
		}), []string{"(Conv)", "group 2"}, true},
		{"dilation", mutate(func(m *pb.ModelProto) {
			m.Graph.Node[0].Attribute[0] = aInts("dilations", 2, 2)
		}), []string{"(Conv)", "dilations [2 2]"}, true},
		{"auto-pad-same", mutate(func(m *pb.ModelProto) {
			m.Graph.Node[0].Attribute = append(m.Graph.Node[0].Attribute, aStr("auto_pad", "SAME_UPPER"))
		}), []string{"(Conv)", `auto_pad "SAME_UPPER"`}, true},
		{"avgpool-pads-over-half-kernel", edit(func(b *graphBuilder, x string) string {
			return b.node("AveragePool", []string{x}, aInts("kernel_shape", 2, 2), aInts("pads", 2, 2, 2, 2))
		}), []string{"(AveragePool)", "pads [2 2 2 2] larger than half the kernel [2 2]"}, true},
		{"avgpool-ceil", edit(func(b *graphBuilder, x string) string {
			return b.node("AveragePool", []string{x}, aInts("kernel_shape", 3, 3), aInts("strides", 2, 2), aInt("ceil_mode", 1))
		}), []string{"(AveragePool)", "ceil_mode=1 gives a larger output"}, true},
		{"gemm-transA", mutate(func(m *pb.ModelProto) {
			n := m.Graph.Node[len(m.Graph.Node)-1]
			n.Attribute = append(n.Attribute, aInt("transA", 1))
		}), []string{"(Gemm)", "transA=1"}, true},
		{"gemm-before-flatten", model(func() *pb.ModelProto {
			b := newGraph(13, 1, 1, 4, 4)
			return b.model(b.gemm("input", 16, 2))
		}), []string{"(Gemm)", "not a vector (missing Flatten?)"}, false},
		{"bn-after-relu", edit(func(b *graphBuilder, x string) string {
			return b.node("BatchNormalization", []string{x, b.weight("g", 1, 1, 2), b.weight("bb", 0, 0, 2), b.weight("m", 0, 0, 2), b.weight("v", 1, 1, 2)})
		}), []string{"(BatchNormalization)", "cannot be folded"}, true},
		{"bn-training", edit(func(b *graphBuilder, x string) string {
			y := b.conv(x, 2, 2, 1, 1, 0, true)
			return b.node("BatchNormalization", []string{y, b.weight("g", 1, 1, 2), b.weight("bb", 0, 0, 2), b.weight("m", 0, 0, 2), b.weight("v", 1, 1, 2)}, aInt("training_mode", 1))
		}), []string{"(BatchNormalization)", "training_mode=1"}, true},
		{"bn-negative-var", edit(func(b *graphBuilder, x string) string {
			y := b.conv(x, 2, 2, 1, 1, 0, true)
			return b.node("BatchNormalization", []string{y, b.weight("g", 1, 1, 2), b.weight("bb", 0, 0, 2), b.weight("m", 0, 0, 2), b.weight("v", -1, -1, 2)})
		}), []string{"(BatchNormalization)", "var+epsilon"}, false},
		{"reshape-not-flatten", edit(func(b *graphBuilder, x string) string {
			return b.node("Reshape", []string{x, b.ints("s", 0, 4, 8)})
		}), []string{"(Reshape)", "is not a flatten"}, true},
		{"flatten-axis", mutate(func(m *pb.ModelProto) {
			m.Graph.Node[2].Attribute = []*pb.AttributeProto{aInt("axis", 2)}
		}), []string{"(Flatten)", "axis 2"}, true},
		{"opset", mutate(func(m *pb.ModelProto) {
			m.OpsetImport[0].Version = proto.Int64(7)
		}), []string{"opset 7"}, true},
		{"two-inputs", mutate(func(m *pb.ModelProto) {
			m.Graph.Input = append(m.Graph.Input, &pb.ValueInfoProto{Name: proto.String("mask")})
		}), []string{"2 inputs", `"mask"`}, true},
		{"output-not-end", mutate(func(m *pb.ModelProto) {
			m.Graph.Output[0].Name = proto.String(m.Graph.Node[1].Output[0])
		}), []string{`node "/Flatten4" (Flatten)`, `does not reach the graph output "/Relu3_output_0"`}, true},
		{"unknown-attribute", mutate(func(m *pb.ModelProto) {
			m.Graph.Node[1].Attribute = []*pb.AttributeProto{aFloat("alpha", 0.1)}
		}), []string{"(Relu)", `attribute "alpha"`}, true},
		{"duplicate-output", mutate(func(m *pb.ModelProto) {
			m.Graph.Node[2].Output[0] = m.Graph.Node[1].Output[0]
		}), []string{"(Flatten)", "also produced by"}, false},
		{"shared-weight-bomb", model(func() *pb.ModelProto {
			b := newGraph(13, 1, 64, 2, 2)
			w := b.weight("w", -0.1, 0.1, 64, 64, 1, 1)
			x := "input"
			for range 2000 {
				x = b.node("Conv", []string{x, w})
			}
			return b.model(x)
		}), []string{"(Conv)", "more than", "parameters"}, false},
		{"newline-in-name", edit(func(b *graphBuilder, x string) string {
			y := b.node("Softmax", []string{x})
			b.lastNode().Name = proto.String("evil\nname")
			return y
		}), []string{`node "evil\nname" (Softmax)`}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkImportError(t, c.data(t), c.want, c.unsupported) })
	}
}

// checkImportError decodes a bad model: the error must be a one-line
// *onnx.Error starting with the file name, containing every want, and
// matching ErrUnsupported as unsupported says.
func checkImportError(t *testing.T, data []byte, want []string, unsupported bool) {
	t.Helper()
	net, err := onnx.Decode(data, "dir/bad.onnx")
	if err == nil {
		t.Fatalf("imported %d layers, want an error", len(net.Layers))
	}
	msg := err.Error()
	t.Log(msg)
	if strings.Contains(msg, "\n") {
		t.Errorf("message is not one line: %q", msg)
	}
	if !strings.HasPrefix(msg, "onnx bad.onnx: ") {
		t.Errorf("message %q does not start with the file name", msg)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("message %q does not contain %q", msg, w)
		}
	}
	var e *onnx.Error
	if !errors.As(err, &e) {
		t.Errorf("error is %T, want *onnx.Error", err)
	}
	if got := errors.Is(err, onnx.ErrUnsupported); got != unsupported {
		t.Errorf("errors.Is(err, ErrUnsupported) = %v, want %v", got, unsupported)
	}
}

func posInf() float64 { return 1 / zero() }

func zero() float64 { return 0 }

func TestImportFileErrors(t *testing.T) {
	if _, err := onnx.Import(filepath.Join(t.TempDir(), "missing.onnx")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want os.ErrNotExist", err)
	}
	if _, err := onnx.Import(t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("directory: %v", err)
	}
}
