package onnx_test

import (
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/format/onnx"
	"github.com/evsnn/evsnn/internal/fixture"
	"github.com/evsnn/evsnn/internal/testenv"
	"github.com/evsnn/evsnn/network"
)

// The ResNet fixture (testdata/README.md): PyTorch 1.13, opset 13, a stem
// conv, a MaxPool, an identity block and a downsampling block with a 1×1
// strided shortcut conv, GlobalAveragePool, Flatten, Gemm.
const (
	resnetModel = "../../testdata/mnist_resnet.onnx"
)

func importResNet(t *testing.T) *network.Network {
	t.Helper()
	return fixture.ResNet(t)
}

// TestResNetFixtureGraph checks the imported graph against the fixture's
// "graph": node i of the fixture is layer i of the network (same kind,
// same inputs, mapped by position), and the spiking layers are the five
// ReLUs in order.
func TestResNetFixtureGraph(t *testing.T) {
	net := importResNet(t)
	exp := fixture.LoadResNetExpected(t)
	if !net.Input.Equal(network.Shape{1, 28, 28}) || net.Meta.Source != "onnx:mnist_resnet.onnx" {
		t.Errorf("input %v, source %q", net.Input, net.Meta.Source)
	}
	if len(net.Layers) != len(exp.Graph) {
		t.Fatalf("%d layers (%s), the fixture graph has %d nodes", len(net.Layers), layerNames(net), len(exp.Graph))
	}
	kinds := map[string]network.Kind{
		"conv": network.KindConv2d, "relu": network.KindReLU, "maxpool": network.KindMaxPool2d,
		"add": network.KindAdd, "gap": network.KindGlobalAvgPool, "flatten": network.KindFlatten,
		"linear": network.KindLinear,
	}
	index := map[string]int{"x": network.InputNode} // fixture name -> layer index
	for i, node := range exp.Graph {
		name, kind := node[0].(string), node[1].(string)
		index[name] = i
		if got, want := net.Layers[i].Kind(), kinds[kind]; got != want || want == "" {
			t.Errorf("layer %d (%s): kind %s, fixture %s (%s)", i, net.Layers[i].Name(), got, kind, name)
		}
		var want []int
		for _, in := range node[2].([]any) {
			j, ok := index[in.(string)]
			if !ok {
				t.Fatalf("fixture node %s reads %v, not defined before it", name, in)
			}
			want = append(want, j)
		}
		if got := net.InputsOf(i); !slices.Equal(got, want) {
			t.Errorf("layer %d (%s = fixture %s): inputs %v, want %v", i, net.Layers[i].Name(), name, got, want)
		}
	}
	var spiking []int
	for _, name := range exp.SpikingLayers {
		spiking = append(spiking, index[name])
	}
	if got := net.SpikingLayers(); !slices.Equal(got, spiking) {
		t.Errorf("spiking layers %v, fixture %v (%v)", got, spiking, exp.SpikingLayers)
	}

	// The names come from the PyTorch module paths (emit.go).
	wantNames := "stem.0 stem.2.relu pool.maxpool blocks.0.c1 blocks.0.relu blocks.0.c2 blocks.0.add blocks.0.relu_1 " +
		"blocks.1.c1 blocks.1.relu blocks.1.c2 blocks.1.down.0 blocks.1.add blocks.1.relu_1 globalaveragepool flatten fc"
	if got := layerNames(net); got != wantNames {
		t.Errorf("names\n got %s\nwant %s", got, wantNames)
	}
	// Geometry: the MaxPool and the 1×1 strided shortcut.
	if mp, ok := net.Layers[index["stem_pool"]].(*network.MaxPool2d); !ok || mp.Window() != (network.Window{KH: 2, KW: 2, StrideH: 2, StrideW: 2}) {
		t.Errorf("stem_pool: %s %s", net.Layers[index["stem_pool"]].Kind(), net.Layers[index["stem_pool"]].Name())
	}
	if c, ok := net.Layers[index["b1down"]].(*network.Conv2d); !ok || c.KH != 1 || c.KW != 1 || c.StrideH != 2 || c.StrideW != 2 || c.PadH != 0 || c.InC != 16 || c.OutC != 32 {
		t.Errorf("b1down: %s %s", net.Layers[index["b1down"]].Kind(), net.Layers[index["b1down"]].Name())
	}
	shapes, err := net.Shapes()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]network.Shape{"stem_pool": {16, 14, 14}, "b1r2": {32, 7, 7}, "gap": {32, 1, 1}, "fc": {10}} {
		if got := shapes[index[name]]; !got.Equal(want) {
			t.Errorf("%s: shape %v, want %v", name, got, want)
		}
	}
	if net.IsChain() {
		t.Error("the ResNet imported as a chain")
	}
}

// TestResNetFixtureLogits compares the logits of the first 16 test images
// with PyTorch's.
func TestResNetFixtureLogits(t *testing.T) {
	net := importResNet(t)
	exp := fixture.LoadResNetExpected(t)
	x, n := readIDXImages(t, first16Images)
	act, err := net.Forward(x, n)
	if err != nil {
		t.Fatal(err)
	}
	logits := act.Logits()
	maxDiff := 0.0
	for i, row := range exp.Logits {
		for k, v := range row {
			maxDiff = math.Max(maxDiff, math.Abs(float64(logits[i*10+k])-v))
		}
		if got := network.Argmax(logits[i*10 : (i+1)*10]); got != exp.Labels[i] && got != argmax64(row) {
			t.Errorf("image %d: predicted %d, PyTorch %d", i, got, argmax64(row))
		}
	}
	t.Logf("max |logit - PyTorch| over 16 images: %.3g", maxDiff)
	if maxDiff > 1e-4 {
		t.Errorf("max logit difference %g > 1e-4", maxDiff)
	}
}

func argmax64(v []float64) int {
	best := 0
	for i := range v {
		if v[i] > v[best] {
			best = i
		}
	}
	return best
}

// TestResNetFixtureAccuracy runs the imported ANN on all 10,000 MNIST test
// images: PyTorch got exactly ann_test_correct right.
func TestResNetFixtureAccuracy(t *testing.T) {
	if testenv.RaceEnabled || testing.Short() {
		t.Skip("runs the ResNet on 10,000 images: skipped with -race and -short")
	}
	net := importResNet(t)
	exp := fixture.LoadResNetExpected(t)
	x, labels := fixture.MNIST(t, "test", 0)
	preds, err := net.Predict(x, len(labels), 500)
	if err != nil {
		t.Fatal(err)
	}
	correct := 0
	for i, p := range preds {
		if p == labels[i] {
			correct++
		}
	}
	t.Logf("%d of %d test images correct (PyTorch: %d)", correct, len(labels), exp.ANNTestCorrect)
	if correct != exp.ANNTestCorrect {
		t.Errorf("%d correct, PyTorch %d", correct, exp.ANNTestCorrect)
	}
}

// TestResNetFixtureTruncated cuts the file at many lengths: every cut is
// refused with a one-line error.
func TestResNetFixtureTruncated(t *testing.T) {
	data, err := os.ReadFile(resnetModel)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 64; i++ {
		n := len(data) * i / 64
		net, err := onnx.Decode(data[:n], "mnist_resnet.onnx")
		if err == nil {
			t.Errorf("cut at %d of %d bytes: imported %d layers", n, len(data), len(net.Layers))
			continue
		}
		if msg := err.Error(); strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "onnx mnist_resnet.onnx: ") {
			t.Errorf("cut at %d: message %q", n, msg)
		}
	}
}
