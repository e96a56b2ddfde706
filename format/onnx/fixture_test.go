package onnx_test

import (
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/format/onnx"
	"github.com/evsnn/evsnn/network"
)

const (
	fixtureModel    = "../../testdata/mnist_lenet.onnx"
	fixtureExpected = "../../testdata/mnist_lenet_expected.json"
	// The first 16 MNIST test images (IDX, gzip), cut from GoMNIST's
	// t10k-images-idx3-ubyte.gz, so the test needs no module cache.
	first16Images = "testdata/mnist_test_first16-idx3-ubyte.gz"
)

// readIDXImages reads an IDX3 image file: pixel = uint8/255.
func readIDXImages(t testing.TB, path string) ([]float32, int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 16 || binary.BigEndian.Uint32(data) != 2051 {
		t.Fatalf("%s: not an IDX3 image file", path)
	}
	n := int(binary.BigEndian.Uint32(data[4:]))
	px := int(binary.BigEndian.Uint32(data[8:]) * binary.BigEndian.Uint32(data[12:]))
	if len(data) != 16+n*px {
		t.Fatalf("%s: %d bytes for %d images of %d pixels", path, len(data), n, px)
	}
	x := make([]float32, n*px)
	for i, b := range data[16:] {
		x[i] = float32(b) / 255
	}
	return x, n
}

func TestImportFixture(t *testing.T) {
	net, err := onnx.Import(fixtureModel)
	if err != nil {
		t.Fatal(err)
	}
	if !net.Input.Equal(network.Shape{1, 28, 28}) {
		t.Errorf("input %v, want [1,28,28]", net.Input)
	}
	if net.Meta.Source != "onnx:mnist_lenet.onnx" {
		t.Errorf("Meta.Source %q", net.Meta.Source)
	}
	var got []string
	for _, l := range net.Layers {
		switch l := l.(type) {
		case *network.Conv2d:
			got = append(got, fmt.Sprintf("%s %d->%d %dx%d s%dx%d p%dx%d", l.LayerName, l.InC, l.OutC, l.KH, l.KW, l.StrideH, l.StrideW, l.PadH, l.PadW))
		case *network.AvgPool2d:
			got = append(got, fmt.Sprintf("%s %dx%d s%dx%d", l.LayerName, l.KH, l.KW, l.StrideH, l.StrideW))
		case *network.Linear:
			got = append(got, fmt.Sprintf("%s %d->%d", l.LayerName, l.In, l.Out))
		default:
			got = append(got, fmt.Sprintf("%s %s", l.Name(), l.Kind()))
		}
	}
	want := []string{
		"conv1 1->16 5x5 s1x1 p2x2", "relu1 relu", "pool1 2x2 s2x2",
		"conv2 16->32 5x5 s1x1 p2x2", "relu2 relu", "pool2 2x2 s2x2",
		"flatten flatten", "fc1 1568->128", "relu3 relu", "fc2 128->10",
	}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("layers\n got %q\nwant %q", got, want)
	}
	if n := net.NumParams(); n != 16*25+16+32*16*25+32+1568*128+128+128*10+10 {
		t.Errorf("%d parameters", n)
	}

	var exp struct {
		Logits [][]float64 `json:"ann_logits_first16_test"`
		Preds  []int       `json:"ann_pred_first16_test"`
	}
	raw, err := os.ReadFile(fixtureExpected)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &exp); err != nil {
		t.Fatal(err)
	}
	x, n := readIDXImages(t, first16Images)
	if n != 16 || len(exp.Logits) != 16 {
		t.Fatalf("%d images, %d expected logit rows", n, len(exp.Logits))
	}
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
		if exp.Preds != nil && network.Argmax(logits[i*10:(i+1)*10]) != exp.Preds[i] {
			t.Errorf("image %d: predicted %d, PyTorch %d", i, network.Argmax(logits[i*10:(i+1)*10]), exp.Preds[i])
		}
	}
	t.Logf("max |logit - PyTorch| over 16 images: %.3g", maxDiff)
	if maxDiff > 1e-4 {
		t.Errorf("max logit difference %g > 1e-4", maxDiff)
	}
}

// TestFixtureTruncated cuts the fixture at many lengths: every cut must be
// refused with an error, never a panic or a network.
func TestFixtureTruncated(t *testing.T) {
	data, err := os.ReadFile(fixtureModel)
	if err != nil {
		t.Fatal(err)
	}
	cuts := []int{0, 1, 2, 10, 100, 1000, 4096, len(data) / 2, len(data) - 1000, len(data) - 100, len(data) - 1}
	for i := 1; i < 64; i++ {
		cuts = append(cuts, len(data)*i/64)
	}
	for _, n := range cuts {
		net, err := onnx.Decode(data[:n], "mnist_lenet.onnx")
		if err == nil {
			t.Errorf("cut at %d of %d bytes: imported %d layers", n, len(data), len(net.Layers))
			continue
		}
		if msg := err.Error(); strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "onnx mnist_lenet.onnx: ") {
			t.Errorf("cut at %d: message %q", n, msg)
		}
	}
}
