package onnx_test

import (
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/evsnn/evsnn/format/onnx/onnxpb"
)

// named renames the node just added (its output keeps its name) and
// returns its output.
func (b *graphBuilder) named(name string) string {
	b.lastNode().Name = proto.String(name)
	return b.lastNode().Output[0]
}

// TestGraphErrors: every op and placement of a graph the importer refuses
// gives a one-line error naming the node, its op and why. The models are
// small(): conv → relu (x, [2,4,4]) → the edit → flatten → gemm.
func TestGraphErrors(t *testing.T) {
	bnOf := func(b *graphBuilder, x string, c int64) string {
		return b.node("BatchNormalization", []string{x, b.weight("g", 1, 1, c), b.weight("bb", 0, 0, c), b.weight("m", 0, 0, c), b.weight("v", 1, 1, c)})
	}
	type tc struct {
		name        string
		edit        func(b *graphBuilder, x string) string
		want        []string
		unsupported bool
	}
	cases := []tc{
		{"concat", func(b *graphBuilder, x string) string {
			y := b.relu(b.conv(x, 2, 1, 3, 1, 1, true))
			z := b.relu(b.conv(x, 2, 1, 3, 1, 1, true))
			b.node("Concat", []string{y, z}, aInt("axis", 1))
			return b.named("/cat/Concat")
		}, []string{`node "/cat/Concat" (Concat)`, "Concat of activations"}, true},
		{"mul", func(b *graphBuilder, x string) string {
			b.node("Mul", []string{x, x})
			return b.named("/gate/Mul")
		}, []string{`node "/gate/Mul" (Mul)`, "op type Mul is not supported"}, true},
		{"upsample", func(b *graphBuilder, x string) string {
			b.node("Upsample", []string{x, b.weight("scales", 1, 1, 4)})
			return b.named("/up/Upsample")
		}, []string{`node "/up/Upsample" (Upsample)`, "op type Upsample is not supported"}, true},
		{"global-max-pool", func(b *graphBuilder, x string) string {
			b.node("GlobalMaxPool", []string{x})
			return b.named("/gmp")
		}, []string{`node "/gmp" (GlobalMaxPool)`, "not supported"}, true},
		{"add-shapes-differ", func(b *graphBuilder, x string) string {
			y := b.conv(x, 2, 3, 3, 1, 1, true)
			b.add(y, x)
			return b.named("/blk/Add")
		}, []string{`node "/blk/Add" (Add)`, "of shape [3,4,4]", "of shape [2,4,4]", "one shape"}, true},
		{"add-to-itself", func(b *graphBuilder, x string) string {
			b.add(x, x)
			return b.relu(b.named("/blk/Add"))
		}, []string{`node "/blk/Add" (Add)`, "to itself"}, true},
		{"add-without-relu", func(b *graphBuilder, x string) string {
			b.add(b.conv(x, 2, 2, 3, 1, 1, true), x)
			return b.named("/blk/Add")
		}, []string{`node "/blk/Add" (Add)`, "an Add must be followed by a ReLU"}, true},
		{"add-feeds-two-relus", func(b *graphBuilder, x string) string {
			s := b.add(b.conv(x, 2, 2, 3, 1, 1, true), x)
			b.named("/blk/Add")
			r1, r2 := b.relu(s), b.relu(s)
			return b.relu(b.add(b.conv(r1, 2, 2, 1, 1, 0, true), r2))
		}, []string{`node "/blk/Add" (Add)`, "an Add must be followed by a ReLU, and only by it"}, true},
		{"sum-adds-a-branch-twice", func(b *graphBuilder, x string) string {
			y := b.conv(x, 2, 2, 3, 1, 1, true)
			b.add(b.add(y, x), x)
			return b.relu(b.named("/outer/Add"))
		}, []string{`node "/outer/Add" (Add)`, `the sum adds node "/Relu3" (Relu) twice`}, true},
		{"add-reads-add-read-twice", func(b *graphBuilder, x string) string {
			y := b.conv(x, 2, 2, 3, 1, 1, true)
			s := b.add(y, x)
			b.named("/inner/Add")
			return b.relu(b.add(b.relu(s), b.add(s, x)))
		}, []string{`node "/inner/Add" (Add)`, "an Add must be followed by a ReLU, and only by it"}, true},
		{"bias-after-relu", func(b *graphBuilder, x string) string {
			b.node("Add", []string{x, b.weight("c", -1, 1, 2, 1, 1)})
			return b.named("/shift/Add")
		}, []string{`node "/shift/Add" (Add)`, "an Add of a constant is a bias", `reads node "/Relu3" (Relu)`}, true},
		{"bias-not-per-channel", func(b *graphBuilder, x string) string {
			y := b.conv(x, 2, 2, 3, 1, 1, true)
			b.node("Add", []string{y, b.weight("c", -1, 1, 2)})
			return b.relu(b.named("/shift/Add"))
		}, []string{`node "/shift/Add" (Add)`, "constant of dims [2]", "per-channel"}, true},
		{"bias-after-shared-conv", func(b *graphBuilder, x string) string {
			y := b.conv(x, 2, 2, 3, 1, 1, true)
			c := b.node("Add", []string{y, b.weight("c", -1, 1, 2, 1, 1)})
			b.named("/shift/Add")
			return b.relu(b.add(c, y))
		}, []string{`node "/shift/Add" (Add)`, "cannot be folded", "also read by"}, true},
		{"add-of-constants", func(b *graphBuilder, x string) string {
			b.node("Add", []string{b.weight("c1", 0, 1, 2), b.weight("c2", 0, 1, 2)})
			b.named("/k/Add")
			return x
		}, []string{`node "/k/Add" (Add)`, "two constants"}, true},
		{"bn-after-add", func(b *graphBuilder, x string) string {
			s := b.add(b.conv(x, 2, 2, 3, 1, 1, true), x)
			bnOf(b, s, 2)
			return b.relu(b.named("/blk/bn/BatchNormalization"))
		}, []string{`node "/blk/bn/BatchNormalization" (BatchNormalization)`, "cannot be folded", "(Add)"}, true},
		{"bn-after-maxpool", func(b *graphBuilder, x string) string {
			m := b.maxPool(x, 2, 2, 0)
			bnOf(b, m, 2)
			return b.named("/bn/BatchNormalization")
		}, []string{`node "/bn/BatchNormalization" (BatchNormalization)`, "cannot be folded", "(MaxPool)"}, true},
		{"bn-after-shared-conv", func(b *graphBuilder, x string) string {
			y := b.conv(x, 2, 2, 3, 1, 1, true)
			z := bnOf(b, y, 2)
			b.named("/bn/BatchNormalization")
			return b.relu(b.add(z, y))
		}, []string{`node "/bn/BatchNormalization" (BatchNormalization)`, "cannot be folded", "also read by", "(Add)"}, true},
		{"conv-feeds-two", func(b *graphBuilder, x string) string {
			y := b.conv(x, 2, 2, 3, 1, 1, true)
			b.named("/shared/Conv")
			r1 := b.relu(y)
			r2 := b.relu(b.add(y, x))
			return b.relu(b.add(b.conv(r1, 2, 2, 1, 1, 0, true), r2))
		}, []string{`node "/shared/Conv" (Conv)`, "feeds 2 layers"}, true},
		{"maxpool-dilation", func(b *graphBuilder, x string) string {
			b.node("MaxPool", []string{x}, aInts("kernel_shape", 2, 2), aInts("dilations", 2, 2))
			return b.named("/pool/MaxPool")
		}, []string{`node "/pool/MaxPool" (MaxPool)`, "dilations [2 2]"}, true},
		{"maxpool-ceil-changes-size", func(b *graphBuilder, x string) string {
			b.node("MaxPool", []string{x}, aInts("kernel_shape", 3, 3), aInts("strides", 2, 2), aInt("ceil_mode", 1))
			return b.named("/pool/MaxPool")
		}, []string{`node "/pool/MaxPool" (MaxPool)`, "ceil_mode=1 gives a larger output"}, true},
		{"maxpool-storage-order", func(b *graphBuilder, x string) string {
			b.node("MaxPool", []string{x}, aInts("kernel_shape", 1, 1), aInt("storage_order", 1))
			return b.named("/pool/MaxPool")
		}, []string{`node "/pool/MaxPool" (MaxPool)`, "storage_order=1"}, true},
		{"maxpool-asymmetric-pads", func(b *graphBuilder, x string) string {
			b.node("MaxPool", []string{x}, aInts("kernel_shape", 2, 2), aInts("pads", 0, 0, 1, 1))
			return b.named("/pool/MaxPool")
		}, []string{`node "/pool/MaxPool" (MaxPool)`, "asymmetric pads [0 0 1 1]"}, true},
		{"maxpool-indices-used", func(b *graphBuilder, x string) string {
			b.node("MaxPool", []string{x}, aInts("kernel_shape", 1, 1))
			b.lastNode().Output = append(b.lastNode().Output, "indices")
			y := b.named("/pool/MaxPool")
			b.node("Identity", []string{"indices"})
			return y
		}, []string{`node "/pool/MaxPool" (MaxPool)`, `extra output "indices" is used`}, true},
		{"maxpool-after-avgpool", func(b *graphBuilder, x string) string {
			a := b.node("AveragePool", []string{x}, aInts("kernel_shape", 1, 1))
			b.node("MaxPool", []string{a}, aInts("kernel_shape", 1, 1))
			return b.named("/pool/MaxPool")
		}, []string{`node "/pool/MaxPool" (MaxPool)`, "must read the input or a ReLU", "(AveragePool)"}, true},
		{"maxpool-after-conv-read-twice", func(b *graphBuilder, x string) string {
			y := b.conv(x, 2, 2, 3, 1, 1, true)
			b.node("MaxPool", []string{y}, aInts("kernel_shape", 1, 1))
			m := b.named("/pool/MaxPool")
			r := b.relu(m)
			return b.relu(b.add(b.conv(r, 2, 2, 1, 1, 0, true), m))
		}, []string{`node "/pool/MaxPool" (MaxPool)`, "reordered to Conv → ReLU → MaxPool only when"}, true},
		{"maxpool-after-conv-no-relu", func(b *graphBuilder, x string) string {
			y := b.conv(x, 2, 2, 3, 1, 1, true)
			b.node("MaxPool", []string{y}, aInts("kernel_shape", 1, 1))
			return b.named("/pool/MaxPool")
		}, []string{`node "/pool/MaxPool" (MaxPool)`, "must read the input or a ReLU"}, true},
		{"pad-reflect", func(b *graphBuilder, x string) string {
			b.node("Pad", []string{x, b.ints("p", 0, 0, 1, 1, 0, 0, 1, 1)}, aStr("mode", "reflect"))
			b.named("/pad/Pad")
			return b.node("AveragePool", []string{b.lastNode().Output[0]}, aInts("kernel_shape", 3, 3))
		}, []string{`node "/pad/Pad" (Pad)`, `mode "reflect"`}, true},
		{"pad-before-conv", func(b *graphBuilder, x string) string {
			b.node("Pad", []string{x, b.ints("p", 0, 0, 1, 1, 0, 0, 1, 1)})
			p := b.named("/pad/Pad")
			return b.relu(b.conv(p, 2, 2, 3, 1, 0, true))
		}, []string{`node "/pad/Pad" (Pad)`, "nonzero pads [0 0 1 1 0 0 1 1] before", "(Conv)"}, true},
		{"pad-asymmetric", func(b *graphBuilder, x string) string {
			b.node("Pad", []string{x, b.ints("p", 0, 0, 0, 0, 0, 0, 2, 2)})
			p := b.named("/pad/Pad")
			return b.node("AveragePool", []string{p}, aInts("kernel_shape", 3, 3), aInts("strides", 1, 1))
		}, []string{`node "/pad/Pad" (Pad)`, "asymmetric pads"}, true},
		{"pad-nonzero-value", func(b *graphBuilder, x string) string {
			b.node("Pad", []string{x, b.ints("p", 0, 0, 1, 1, 0, 0, 1, 1), b.weight("v", 1, 1)})
			p := b.named("/pad/Pad")
			return b.node("AveragePool", []string{p}, aInts("kernel_shape", 3, 3), aInts("strides", 1, 1))
		}, []string{`node "/pad/Pad" (Pad)`, "with value 1"}, true},
		{"pad-then-avgpool-own-pads", func(b *graphBuilder, x string) string {
			b.node("Pad", []string{x, b.ints("p", 0, 0, 1, 1, 0, 0, 1, 1)})
			p := b.named("/pad/Pad")
			b.node("AveragePool", []string{p}, aInts("kernel_shape", 4, 4), aInts("pads", 1, 1, 1, 1), aInts("strides", 2, 2))
			return b.named("/pool/AveragePool")
		}, []string{`node "/pool/AveragePool" (AveragePool)`, "count differently"}, true},
		{"pad-read-by-two-pools", func(b *graphBuilder, x string) string {
			b.node("Pad", []string{x, b.ints("p", 0, 0, 1, 1, 0, 0, 1, 1)})
			p := b.named("/pad/Pad")
			a1 := b.node("AveragePool", []string{p}, aInts("kernel_shape", 3, 3), aInts("strides", 1, 1))
			a2 := b.node("AveragePool", []string{p}, aInts("kernel_shape", 3, 3), aInts("strides", 1, 1))
			return b.relu(b.add(a1, a2))
		}, []string{`node "/pad/Pad" (Pad)`, "several nodes"}, true},
		{"pad-over-half-kernel", func(b *graphBuilder, x string) string {
			b.node("Pad", []string{x, b.ints("p", 0, 0, 2, 2, 0, 0, 2, 2)})
			p := b.named("/pad/Pad")
			return b.node("AveragePool", []string{p}, aInts("kernel_shape", 3, 3), aInts("strides", 3, 3))
		}, []string{"(AveragePool)", `the Pad before it (node "/pad/Pad" (Pad)) pads 2x2`, "more than half the kernel 3x3"}, true},
		{"cycle-through-add", func(b *graphBuilder, x string) string {
			s := b.add(b.conv(x, 2, 2, 3, 1, 1, true), "later")
			b.relu(s)
			b.lastNode().Output[0] = "later"
			b.lastNode().Name = proto.String("/loop/Relu")
			return "later"
		}, []string{"(Add)", "cycle"}, false},
		{"undefined-input", func(b *graphBuilder, x string) string {
			b.add(x, "nowhere")
			return b.relu(b.named("/blk/Add"))
		}, []string{`node "/blk/Add" (Add)`, `input "nowhere" is not produced`}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkImportError(t, marshal(t, small(c.edit)), c.want, c.unsupported)
		})
	}
}

// TestGraphOutputErrors: the graph output must be computed by the layers.
func TestGraphOutputErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		out  func(m *pb.ModelProto) string
		want []string
	}{
		{"output-is-input", func(*pb.ModelProto) string { return "input" }, []string{`output "input"`, "not computed from the input by layers"}},
		{"output-is-a-weight", func(m *pb.ModelProto) string { return m.Graph.Initializer[0].GetName() }, []string{"output", "not computed from the input"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := small(nil)
			m.Graph.Output[0].Name = proto.String(c.out(m))
			checkImportError(t, marshal(t, m), c.want, true)
		})
	}
}
