package onnx_test

// Graph models built in Go as PyTorch exports them: VGG-style chains with
// BatchNormalization and MaxPools, ResNet basic blocks with identity and
// 1×1-conv+BN shortcuts, GlobalAveragePool; each imported network is
// checked against the naive float64 evaluation of the unfolded ONNX graph.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/format/onnx"
	pb "github.com/evsnn/evsnn/format/onnx/onnxpb"
	"github.com/evsnn/evsnn/network"
)

// in sets the scope the next nodes are named in (see graphBuilder.scope).
func (b *graphBuilder) in(scope string) *graphBuilder { b.scope = scope; return b }

// bn adds an inference-mode BatchNormalization over c channels; the scale
// may be negative.
func (b *graphBuilder) bn(x string, c int64) string {
	b.n++
	p := fmt.Sprintf("bn%d.", b.n)
	return b.node("BatchNormalization", []string{x,
		b.weight(p+"weight", -1.5, 1.5, c), b.weight(p+"bias", -0.3, 0.3, c),
		b.weight(p+"running_mean", -0.2, 0.2, c), b.weight(p+"running_var", 0.3, 2, c)},
		aFloat("epsilon", 1e-5), aFloat("momentum", 0.9))
}

func (b *graphBuilder) relu(x string) string { return b.node("Relu", []string{x}) }

func (b *graphBuilder) add(x, y string) string { return b.node("Add", []string{x, y}) }

// maxPool adds a MaxPool as PyTorch writes nn.MaxPool2d.
func (b *graphBuilder) maxPool(x string, k, s, p int64) string {
	return b.node("MaxPool", []string{x}, aInt("ceil_mode", 0), aInts("kernel_shape", k, k),
		aInts("pads", p, p, p, p), aInts("strides", s, s))
}

// convBN is Conv (no bias, as torchvision's) + BatchNormalization.
func (b *graphBuilder) convBN(x string, in, out, k, s, p int64) string {
	return b.bn(b.conv(x, in, out, k, s, p, false), out)
}

// graphString lists the layers as name:kind<inputs.
func graphString(net *network.Network) string {
	var parts []string
	for i, l := range net.Layers {
		var ins []string
		for _, j := range net.InputsOf(i) {
			if j == network.InputNode {
				ins = append(ins, "input")
			} else {
				ins = append(ins, net.Layers[j].Name())
			}
		}
		parts = append(parts, fmt.Sprintf("%s:%s<%s", l.Name(), l.Kind(), strings.Join(ins, ",")))
	}
	return strings.Join(parts, " ")
}

type graphModel struct {
	name  string
	build func() *pb.ModelProto
	graph string // graphString of the imported network
}

// vggBN: (conv-bn-relu-maxpool) ×3, flatten, gemm-relu-dropout-gemm.
func vggBN() *pb.ModelProto {
	b := newGraph(13, 31, 3, 16, 16)
	x, c := "input", int64(3)
	for _, out := range []int64{4, 6, 8} {
		x = b.maxPool(b.relu(b.bn(b.conv(x, c, out, 3, 1, 1, true), out)), 2, 2, 0)
		c = out
	}
	x = b.node("Flatten", []string{x}, aInt("axis", 1))
	x = b.relu(b.gemm(x, 8*2*2, 12))
	x = b.node("Dropout", []string{x}, aFloat("ratio", 0.5))
	return b.model(b.gemm(x, 12, 5))
}

// vggPoolFirst: conv-bn-maxpool-relu ×2 and conv-maxpool-relu, as a model
// that pools before its ReLU exports; then x.view(N, -1) and two Gemms.
func vggPoolFirst(opset int64) func() *pb.ModelProto {
	return func() *pb.ModelProto {
		b := newGraph(opset, 32, 2, 12, 12)
		x := b.relu(b.maxPool(b.bn(b.conv("input", 2, 4, 3, 1, 1, true), 4), 2, 2, 0))
		x = b.relu(b.maxPool(b.bn(b.conv(x, 4, 5, 3, 1, 1, false), 5), 2, 2, 0))
		x = b.relu(b.maxPool(b.conv(x, 5, 6, 3, 1, 1, true), 3, 1, 1))
		x = b.relu(b.gemm(b.viewFlatten(x), 6*3*3, 7))
		return b.model(b.gemm(x, 7, 3))
	}
}

// vggPaddedPools: MaxPool 3/2 padded 1 (torchvision's stem), nn.AvgPool2d(3,
// 2, padding=1) as PyTorch exports it (Pad + AveragePool), a MaxPool in
// ceil mode where that changes nothing, an AveragePool with its own pads
// and count_include_pad=0, GlobalAveragePool.
func vggPaddedPools() *pb.ModelProto {
	b := newGraph(17, 33, 2, 12, 12)
	x := b.maxPool(b.relu(b.conv("input", 2, 4, 3, 1, 1, true)), 3, 2, 1) // [4,6,6]
	x = b.relu(b.conv(x, 4, 4, 3, 1, 1, true))
	x = b.node("Pad", []string{x, b.constInts(false, 0, 0, 1, 1, 0, 0, 1, 1), b.weight("padvalue", 0, 0)}, aStr("mode", "constant"))
	x = b.node("AveragePool", []string{x}, aInt("ceil_mode", 0), aInts("kernel_shape", 3, 3), aInts("pads", 0, 0, 0, 0), aInts("strides", 2, 2)) // [4,3,3]
	x = b.relu(b.conv(x, 4, 6, 3, 1, 1, true))
	// [6,2,2], ceil mode: (3-2)%1 == 0.
	x = b.node("MaxPool", []string{x}, aInt("ceil_mode", 1), aInts("kernel_shape", 2, 2), aInts("strides", 1, 1))
	// [6,3,3], the padding not counted.
	x = b.node("AveragePool", []string{x}, aInts("kernel_shape", 2, 2), aInts("pads", 1, 1, 1, 1), aInts("strides", 1, 1), aInt("count_include_pad", 0))
	x = b.node("GlobalAveragePool", []string{x})
	x = b.node("Flatten", []string{x}, aInt("axis", 1))
	return b.model(b.gemm(x, 6, 4))
}

// torchResNet: torchvision's ResNet-18 layout, shrunk: stem conv-bn-relu-
// maxpool(3,2,1), an identity block, a downsampling block (1×1 conv + BN
// shortcut, stride 2), another identity block, avgpool, flatten, fc; node
// names as torch.onnx.export writes them.
func torchResNet(opset int64) func() *pb.ModelProto {
	return func() *pb.ModelProto {
		b := newGraph(opset, 34, 3, 16, 16)
		x := b.in("conv1").conv("input", 3, 8, 3, 1, 1, false)
		x = b.in("bn1").bn(x, 8)
		x = b.in("relu").relu(x)
		x = b.in("maxpool").maxPool(x, 3, 2, 1) // [8,8,8]
		block := func(scope string, x string, in, out, stride int64) string {
			y := b.in(scope+"/conv1").conv(x, in, out, 3, stride, 1, false)
			y = b.in(scope+"/bn1").bn(y, out)
			y = b.in(scope + "/relu").relu(y)
			y = b.in(scope+"/conv2").conv(y, out, out, 3, 1, 1, false)
			y = b.in(scope+"/bn2").bn(y, out)
			short := x
			if stride != 1 || in != out {
				short = b.in(scope+"/downsample/downsample.0").conv(x, in, out, 1, stride, 0, false)
				short = b.in(scope+"/downsample/downsample.1").bn(short, out)
			}
			y = b.in(scope).add(y, short)
			return b.in(scope + "/relu_1").relu(y)
		}
		x = block("layer1/layer1.0", x, 8, 8, 1)
		x = block("layer2/layer2.0", x, 8, 12, 2) // [12,4,4]
		x = block("layer2/layer2.1", x, 12, 12, 1)
		x = b.in("avgpool").node("GlobalAveragePool", []string{x})
		x = b.in("/").node("Flatten", []string{x}, aInt("axis", 1))
		return b.model(b.in("fc").gemm(x, 12, 10))
	}
}

// biasResNet: a block with the shortcut first in its Add (an identity on a
// MaxPool of the input's ReLU), Conv + Add(constant) + BN on the main
// path, and a per-channel constant added after the residual Add (folded
// into the Add's bias); the default node names.
func biasResNet() *pb.ModelProto {
	b := newGraph(11, 35, 1, 10, 10)
	h := b.maxPool(b.relu(b.conv("input", 1, 4, 3, 1, 1, true)), 2, 2, 0) // [4,5,5]
	y := b.relu(b.convBN(h, 4, 4, 3, 1, 1))
	y = b.conv(y, 4, 4, 3, 1, 1, false)
	y = b.node("Add", []string{y, b.weight("cbias", -0.3, 0.3, 4, 1, 1)})
	y = b.bn(y, 4)
	s := b.add(h, y)
	s = b.node("Add", []string{b.weight("addbias", -0.3, 0.3, 1, 4, 1, 1), s})
	x := b.relu(s)
	x = b.node("GlobalAveragePool", []string{x})
	x = b.node("Flatten", []string{x})
	return b.model(b.gemm(x, 4, 3))
}

// threeWay: relu(bn(conv(x)) + bn(conv(x)) + x) — an Add of an Add.
func threeWay() *pb.ModelProto {
	b := newGraph(18, 36, 2, 6, 6)
	x := b.relu(b.conv("input", 2, 3, 3, 1, 1, true))
	p := b.convBN(x, 3, 3, 3, 1, 1)
	q := b.convBN(x, 3, 3, 1, 1, 0)
	s := b.relu(b.add(b.add(p, q), x))
	return b.model(b.gemm(b.node("Flatten", []string{s}), 3*6*6, 2))
}

// addPoolReLU: Add → MaxPool → ReLU, reordered to Add → ReLU → MaxPool.
func addPoolReLU() *pb.ModelProto {
	b := newGraph(13, 37, 2, 8, 8)
	x := b.relu(b.conv("input", 2, 3, 3, 1, 1, true))
	y := b.add(b.conv(x, 3, 3, 3, 1, 1, true), x)
	r := b.relu(b.maxPool(y, 2, 2, 0)) // [3,4,4]
	return b.model(b.gemm(b.node("Flatten", []string{r}), 3*4*4, 2))
}

func graphModels() []graphModel {
	return []graphModel{
		{"vgg-bn", vggBN,
			"conv1:conv2d<input relu1:relu<conv1 pool1:maxpool2d<relu1 conv2:conv2d<pool1 relu2:relu<conv2 pool2:maxpool2d<relu2 " +
				"conv3:conv2d<pool2 relu3:relu<conv3 pool3:maxpool2d<relu3 flatten:flatten<pool3 fc1:linear<flatten relu4:relu<fc1 fc2:linear<relu4"},
		{"vgg-pool-before-relu-opset11", vggPoolFirst(11),
			"conv1:conv2d<input relu1:relu<conv1 pool1:maxpool2d<relu1 conv2:conv2d<pool1 relu2:relu<conv2 pool2:maxpool2d<relu2 " +
				"conv3:conv2d<pool2 relu3:relu<conv3 pool3:maxpool2d<relu3 flatten:flatten<pool3 fc1:linear<flatten relu4:relu<fc1 fc2:linear<relu4"},
		{"vgg-pool-before-relu-opset15", vggPoolFirst(15),
			"conv1:conv2d<input relu1:relu<conv1 pool1:maxpool2d<relu1 conv2:conv2d<pool1 relu2:relu<conv2 pool2:maxpool2d<relu2 " +
				"conv3:conv2d<pool2 relu3:relu<conv3 pool3:maxpool2d<relu3 flatten:flatten<pool3 fc1:linear<flatten relu4:relu<fc1 fc2:linear<relu4"},
		{"vgg-padded-pools", vggPaddedPools,
			"conv1:conv2d<input relu1:relu<conv1 pool1:maxpool2d<relu1 conv2:conv2d<pool1 relu2:relu<conv2 pool2:avgpool2d<relu2 " +
				"conv3:conv2d<pool2 relu3:relu<conv3 pool3:maxpool2d<relu3 pool4:avgpool2d<pool3 gap:globalavgpool<pool4 flatten:flatten<gap fc1:linear<flatten"},
		{"torchvision-resnet-opset13", torchResNet(13), torchResNetGraph},
		{"torchvision-resnet-opset18", torchResNet(18), torchResNetGraph},
		{"bias-resnet", biasResNet,
			"conv2:conv2d<input relu3:relu<conv2 maxpool4:maxpool2d<relu3 conv6:conv2d<maxpool4 relu9:relu<conv6 conv11:conv2d<relu9 " +
				"add15:add<maxpool4,conv11 relu17:relu<add15 globalaveragepool18:globalavgpool<relu17 flatten19:flatten<globalaveragepool18 gemm21:linear<flatten19"},
		{"three-way-add", threeWay,
			"conv2:conv2d<input relu3:relu<conv2 conv5:conv2d<relu3 conv9:conv2d<relu3 add13:add<conv5,conv9,relu3 relu14:relu<add13 flatten15:flatten<relu14 gemm17:linear<flatten15"},
		{"add-maxpool-relu", addPoolReLU,
			"conv2:conv2d<input relu3:relu<conv2 conv5:conv2d<relu3 add6:add<conv5,relu3 relu8:relu<add6 maxpool7:maxpool2d<relu8 flatten9:flatten<maxpool7 gemm11:linear<flatten9"},
	}
}

const torchResNetGraph = "conv1:conv2d<input relu:relu<conv1 maxpool:maxpool2d<relu " +
	"layer1.0.conv1:conv2d<maxpool layer1.0.relu:relu<layer1.0.conv1 layer1.0.conv2:conv2d<layer1.0.relu " +
	"layer1.0.add:add<layer1.0.conv2,maxpool layer1.0.relu_1:relu<layer1.0.add " +
	"layer2.0.conv1:conv2d<layer1.0.relu_1 layer2.0.relu:relu<layer2.0.conv1 layer2.0.conv2:conv2d<layer2.0.relu " +
	"layer2.0.downsample.0:conv2d<layer1.0.relu_1 layer2.0.add:add<layer2.0.conv2,layer2.0.downsample.0 layer2.0.relu_1:relu<layer2.0.add " +
	"layer2.1.conv1:conv2d<layer2.0.relu_1 layer2.1.relu:relu<layer2.1.conv1 layer2.1.conv2:conv2d<layer2.1.relu " +
	"layer2.1.add:add<layer2.1.conv2,layer2.0.relu_1 layer2.1.relu_1:relu<layer2.1.add " +
	"avgpool.globalaveragepool:globalavgpool<layer2.1.relu_1 flatten:flatten<avgpool.globalaveragepool fc:linear<flatten"

// TestGraphModels imports each graph model, checks its structure and
// compares its forward pass with the naive float64 evaluation of the ONNX
// graph as written (BatchNormalization, pads, pool order unfolded).
func TestGraphModels(t *testing.T) {
	for _, tc := range graphModels() {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.build()
			net, err := onnx.Decode(marshal(t, m), tc.name+".onnx")
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if got := graphString(net); got != tc.graph {
				t.Errorf("graph\n got %s\nwant %s", got, tc.graph)
			}
			checkAgainstReference(t, m, net, 1e-5)
		})
	}
}

// checkAgainstReference runs the network and the reference evaluator on
// a batch of random inputs in [0, 1).
func checkAgainstReference(t *testing.T, m *pb.ModelProto, net *network.Network, tol float64) {
	t.Helper()
	const batch = 3
	rng := rand.New(rand.NewPCG(42, 2))
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
	maxDiff, maxAbs := 0.0, 0.0
	for i := range got {
		maxDiff = math.Max(maxDiff, math.Abs(float64(got[i])-want.d[i]))
		maxAbs = math.Max(maxAbs, math.Abs(want.d[i]))
	}
	t.Logf("max |network - reference| = %.3g over %d outputs of magnitude up to %.3g", maxDiff, len(got), maxAbs)
	if maxDiff > tol {
		t.Errorf("max |network - reference| = %g > %g\n got %v\nwant %v", maxDiff, tol, got, want.d)
	}
	if maxAbs == 0 {
		t.Error("the reference output is all zero: the test cannot tell the networks apart")
	}
}
