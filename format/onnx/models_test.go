package onnx_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/format/onnx"
	pb "github.com/evsnn/evsnn/format/onnx/onnxpb"
	"github.com/evsnn/evsnn/network"
)

// goodModel is a model built in Go that must import.
type goodModel struct {
	name   string
	build  func() *pb.ModelProto
	layers string // layer names, space-separated
}

// bnAfterConv: Conv (stride 1, pad 1) → BatchNormalization → Relu →
// Flatten → Gemm, as a model exported in training mode and re-exported
// with BN kept would look.
func bnAfterConv(opset int64) func() *pb.ModelProto {
	return func() *pb.ModelProto {
		b := newGraph(opset, 1, 2, 7, 7)
		x := b.conv("input", 2, 3, 3, 1, 1, true)
		ins := []string{x,
			b.weight("bn.weight", 0.5, 1.5, 3), b.weight("bn.bias", -0.3, 0.3, 3),
			b.weight("bn.running_mean", -0.2, 0.2, 3), b.weight("bn.running_var", 0.3, 2, 3)}
		x = b.node("BatchNormalization", ins, aFloat("epsilon", 1e-3), aFloat("momentum", 0.9))
		x = b.node("Relu", []string{x})
		x = b.node("Flatten", []string{x}, aInt("axis", 1))
		x = b.gemm(x, 3*7*7, 4)
		return b.model(x)
	}
}

func goodModels() []goodModel {
	return []goodModel{
		{"bn-after-conv-opset13", bnAfterConv(13), "conv1 relu1 flatten fc1"},
		{"bn-after-conv-opset9", bnAfterConv(9), "conv1 relu1 flatten fc1"},
		{"bn-after-conv-no-bias", func() *pb.ModelProto {
			b := newGraph(15, 2, 3, 6, 6)
			x := b.conv("input", 3, 4, 3, 1, 0, false)
			ins := []string{x,
				b.weight("bn.weight", -1.5, 1.5, 4), b.weight("bn.bias", -0.3, 0.3, 4),
				b.weight("bn.running_mean", -0.2, 0.2, 4), b.weight("bn.running_var", 0.01, 2, 4)}
			x = b.node("BatchNormalization", ins, aFloat("epsilon", 1e-5), aFloat("momentum", 0.9), aInt("training_mode", 0))
			x = b.node("Relu", []string{x})
			x = b.node("Flatten", []string{x}, aInt("axis", 1))
			return b.model(b.gemm(x, 4*4*4, 3))
		}, "conv1 relu1 flatten fc1"},
		{"stride2-conv", func() *pb.ModelProto {
			b := newGraph(13, 3, 3, 9, 9)
			x := b.conv("input", 3, 4, 3, 2, 1, true) // 9x9 -> 5x5
			x = b.node("Relu", []string{x})
			x = b.conv(x, 4, 5, 3, 2, 0, false) // 5x5 -> 2x2
			x = b.node("Relu", []string{x})
			x = b.node("Flatten", []string{x}, aInt("axis", 1))
			return b.model(b.gemm(x, 5*2*2, 3))
		}, "conv1 relu1 conv2 relu2 flatten fc1"},
		{"rect-kernel-stride", func() *pb.ModelProto {
			b := newGraph(11, 4, 2, 8, 7)
			b.n++
			w := b.weight("w", -0.4, 0.4, 3, 2, 3, 2)
			x := b.node("Conv", []string{"input", w}, aInts("kernel_shape", 3, 2), aInts("strides", 2, 1), aInts("pads", 1, 0, 1, 0))
			x = b.node("Relu", []string{x})
			x = b.node("Flatten", []string{x})
			return b.model(b.gemm(x, 3*4*6, 2))
		}, "conv1 relu1 flatten fc1"},
		{"gemm-transB0-alpha-beta", func() *pb.ModelProto {
			b := newGraph(13, 5, 6)
			w := b.weight("w1", -0.5, 0.5, 6, 5)
			c := b.weight("c1", -0.5, 0.5, 1, 5)
			x := b.node("Gemm", []string{"input", w, c}, aFloat("alpha", 0.5), aFloat("beta", 2), aInt("transB", 0))
			x = b.node("Relu", []string{x})
			w2 := b.weight("w2", -0.5, 0.5, 3, 5)
			c2 := b.weight("c2", -0.5, 0.5, 3)
			x = b.node("Gemm", []string{x, w2, c2}, aFloat("alpha", 1.5), aFloat("beta", -0.25), aInt("transB", 1))
			return b.model(x)
		}, "fc1 relu1 fc2"},
		{"gemm-no-C-scalar-C", func() *pb.ModelProto {
			b := newGraph(13, 6, 4)
			x := b.node("Gemm", []string{"input", b.weight("w1", -0.5, 0.5, 4, 5)})
			x = b.node("Relu", []string{x})
			x = b.node("Gemm", []string{x, b.weight("w2", -0.5, 0.5, 5, 2), b.weight("c2", -1, 1, 1)}, aFloat("beta", 3))
			return b.model(x)
		}, "fc1 relu1 fc2"},
		{"matmul-add", func() *pb.ModelProto {
			b := newGraph(13, 7, 6)
			x := b.node("MatMul", []string{"input", b.weight("w1", -0.5, 0.5, 6, 5)})
			x = b.node("Add", []string{x, b.weight("b1", -0.5, 0.5, 5)})
			x = b.node("Relu", []string{x})
			x = b.node("MatMul", []string{x, b.weight("w2", -0.5, 0.5, 5, 3)})
			x = b.node("Add", []string{b.weight("b2", -0.5, 0.5, 3), x}) // constant first
			return b.model(x)
		}, "fc1 relu1 fc2"},
		{"conv-add-bias", func() *pb.ModelProto {
			b := newGraph(13, 8, 2, 5, 5)
			x := b.conv("input", 2, 3, 3, 1, 1, false)
			x = b.node("Add", []string{x, b.weight("cb", -0.5, 0.5, 1, 3, 1, 1)})
			x = b.node("Relu", []string{x})
			x = b.node("Flatten", []string{x})
			return b.model(b.gemm(x, 75, 2))
		}, "conv1 relu1 flatten fc1"},
		{"view-chain-opset13", viewModel(13), "conv1 relu1 pool1 flatten fc1 relu2 fc2"},
		{"view-chain-opset11", viewModel(11), "conv1 relu1 pool1 flatten fc1 relu2 fc2"},
		{"view-chain-opset9", viewModel(9), "conv1 relu1 pool1 flatten fc1 relu2 fc2"},
		{"view-chain-opset18", viewModel(18), "conv1 relu1 pool1 flatten fc1 relu2 fc2"},
		{"reshape-constant", func() *pb.ModelProto {
			b := newGraph(13, 10, 2, 4, 4)
			x := b.conv("input", 2, 3, 3, 1, 1, true)
			x = b.node("Relu", []string{x})
			x = b.node("Reshape", []string{x, b.ints("shape", -1, 48)})
			x = b.gemm(x, 48, 5)
			x = b.node("Relu", []string{x})
			x = b.node("Reshape", []string{x, b.constInts(false, 0, -1)}) // a no-op on [N,5]
			return b.model(b.gemm(x, 5, 2))
		}, "conv1 relu1 flatten fc1 relu2 fc2"},
		{"pad-avgpool", func() *pb.ModelProto {
			b := newGraph(13, 11, 1, 8, 8)
			x := b.conv("input", 1, 2, 3, 1, 1, true)
			x = b.node("Relu", []string{x})
			x = b.avgPool(x, 2)                                                     // pads from a Constant node
			x = b.node("Pad", []string{x, b.ints("pads0", 0, 0, 0, 0, 0, 0, 0, 0)}) // pads from an initializer
			x = b.node("AveragePool", []string{x}, aInts("kernel_shape", 2, 2), aInts("strides", 1, 1), aInt("ceil_mode", 1), aInt("count_include_pad", 1))
			x = b.node("Flatten", []string{x})
			return b.model(b.gemm(x, 2*3*3, 3))
		}, "conv1 relu1 pool1 pool2 flatten fc1"},
		{"pad-attribute-opset10", func() *pb.ModelProto {
			b := newGraph(10, 12, 1, 8, 8)
			x := b.conv("input", 1, 2, 3, 1, 1, true)
			x = b.node("Relu", []string{x})
			x = b.node("Pad", []string{x}, aStr("mode", "constant"), aInts("pads", 0, 0, 0, 0, 0, 0, 0, 0), aFloat("value", 0))
			x = b.node("AveragePool", []string{x}, aInts("kernel_shape", 4, 4), aInts("strides", 4, 4), aInt("ceil_mode", 1))
			x = b.node("GlobalAveragePool", []string{x})
			x = b.node("Flatten", []string{x})
			return b.model(b.gemm(x, 2, 3))
		}, "conv1 relu1 pool1 gap flatten fc1"},
		{"dropout-identity", func() *pb.ModelProto {
			b := newGraph(13, 13, 2, 4, 4)
			x := b.node("Identity", []string{"input"})
			x = b.conv(x, 2, 3, 3, 1, 1, true)
			x = b.node("Relu", []string{x})
			x = b.node("Dropout", []string{x, b.weight("ratio", 0.5, 0.5)})
			x = b.node("Flatten", []string{x})
			x = b.gemm(x, 48, 6)
			x = b.node("Relu", []string{x})
			x = b.node("Dropout", []string{x})
			b.lastNode().Output = append(b.lastNode().Output, "unused_mask")
			x = b.node("Identity", []string{x})
			return b.model(b.gemm(x, 6, 2))
		}, "conv1 relu1 flatten fc1 relu2 fc2"},
		{"dropout-opset9-bn1d", func() *pb.ModelProto {
			b := newGraph(9, 14, 6)
			x := b.gemm("input", 6, 5)
			x = b.node("BatchNormalization", []string{x,
				b.weight("bn.weight", 0.5, 1.5, 5), b.weight("bn.bias", -0.3, 0.3, 5),
				b.weight("bn.running_mean", -0.2, 0.2, 5), b.weight("bn.running_var", 0.3, 2, 5)})
			x = b.node("Relu", []string{x})
			x = b.node("Dropout", []string{x}, aFloat("ratio", 0.5))
			return b.model(b.gemm(x, 5, 2))
		}, "fc1 relu1 fc2"},
		{"float-data-and-shared-weight", func() *pb.ModelProto {
			b := newGraph(13, 15, 4)
			w := b.weight("w", -0.5, 0.5, 4, 4)
			// Store the first weight as float_data instead of raw_data.
			t := b.g.Initializer[0]
			raw := t.RawData
			t.RawData = nil
			for i := 0; i < len(raw); i += 4 {
				t.FloatData = append(t.FloatData, math.Float32frombits(uint32(raw[i])|uint32(raw[i+1])<<8|uint32(raw[i+2])<<16|uint32(raw[i+3])<<24))
			}
			x := b.node("Gemm", []string{"input", w}, aInt("transB", 1))
			x = b.node("Relu", []string{x})
			w2 := b.node("Identity", []string{w}) // a renamed (shared) weight
			x = b.node("Gemm", []string{x, w2}, aInt("transB", 0))
			return b.model(x)
		}, "fc1 relu1 fc2"},
	}
}

// viewModel builds conv → relu → avgpool → x.view(x.size(0), -1) → fc →
// relu → fc, as PyTorch exports it at the given opset.
func viewModel(opset int64) func() *pb.ModelProto {
	return func() *pb.ModelProto {
		b := newGraph(opset, 9, 1, 6, 6)
		x := b.conv("input", 1, 2, 3, 1, 1, true)
		x = b.node("Relu", []string{x})
		if opset >= 11 {
			x = b.avgPool(x, 2)
		} else {
			x = b.node("AveragePool", []string{x}, aInts("kernel_shape", 2, 2), aInts("strides", 2, 2))
		}
		x = b.viewFlatten(x)
		x = b.gemm(x, 2*3*3, 4)
		x = b.node("Relu", []string{x})
		return b.model(b.gemm(x, 4, 3))
	}
}

func layerNames(net *network.Network) string {
	var names []string
	for _, l := range net.Layers {
		names = append(names, l.Name())
	}
	return strings.Join(names, " ")
}

// TestGoModels imports each Go-built model and checks the network's
// forward pass against the naive float64 evaluation of the unfolded ONNX
// graph.
func TestGoModels(t *testing.T) {
	for _, tc := range goodModels() {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.build()
			data := marshal(t, m)
			net, err := onnx.Decode(data, "/some/dir/"+tc.name+".onnx")
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if got := layerNames(net); got != tc.layers {
				t.Errorf("layers %q, want %q", got, tc.layers)
			}
			if want := "onnx:" + tc.name + ".onnx"; net.Meta.Source != want {
				t.Errorf("Meta.Source %q, want %q", net.Meta.Source, want)
			}
			const batch = 3
			rng := rand.New(rand.NewPCG(42, 1))
			x := make([]float32, batch*net.Input.Size())
			for i := range x {
				x[i] = rng.Float32()
			}
			act, err := net.Forward(x, batch)
			if err != nil {
				t.Fatal(err)
			}
			got := act.Logits()
			want := reference(t, m, x, batch)
			if len(got) != len(want.d) {
				t.Fatalf("%d outputs, reference has %d (%v)", len(got), len(want.d), want.dims)
			}
			maxDiff := 0.0
			for i := range got {
				maxDiff = math.Max(maxDiff, math.Abs(float64(got[i])-want.d[i]))
			}
			if maxDiff > 1e-5 {
				t.Errorf("max |network - reference| = %g > 1e-5\n got %v\nwant %v", maxDiff, got, want.d)
			}
			t.Logf("max diff %.3g over %d outputs", maxDiff, len(got))
		})
	}
}

// TestFoldInPlaceSafe checks that a weight shared by two layers is not
// changed for the second by folding a BatchNormalization into the first.
func TestFoldInPlaceSafe(t *testing.T) {
	b := newGraph(13, 20, 2, 4, 4)
	w := b.weight("w", -0.5, 0.5, 2, 2, 1, 1)
	x := b.node("Conv", []string{"input", w})
	x = b.node("BatchNormalization", []string{x,
		b.weight("g", 2, 2, 2), b.weight("be", 0, 0, 2), b.weight("m", 0, 0, 2), b.weight("v", 1, 1, 2)}, aFloat("epsilon", 0))
	x = b.node("Relu", []string{x})
	x = b.node("Conv", []string{x, w})
	x = b.node("Relu", []string{x})
	x = b.node("Flatten", []string{x})
	m := b.model(b.gemm(x, 32, 2))
	net, err := onnx.Decode(marshal(t, m), "shared.onnx")
	if err != nil {
		t.Fatal(err)
	}
	c1, c2 := net.Layers[0].(*network.Conv2d), net.Layers[2].(*network.Conv2d)
	for i := range c1.Weight {
		if c1.Weight[i] != 2*c2.Weight[i] {
			t.Fatalf("weight %d: conv1 %v, conv2 %v: want conv1 = 2·conv2", i, c1.Weight[i], c2.Weight[i])
		}
	}
}
