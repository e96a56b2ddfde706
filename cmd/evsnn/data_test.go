package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/analysis"
	"github.com/evsnn/evsnn/dataset"
	"github.com/evsnn/evsnn/internal/testenv"
	"github.com/evsnn/evsnn/models"
)

// Fashion-MNIST from Debian's dataset-fashion-mnist, end to end: convert on
// its training images, simulate on its test images, check both engines
// agree and that the ANN sees other images than MNIST's.
func TestFashionMNIST(t *testing.T) {
	if testenv.RaceEnabled {
		t.Skip("every command reads the Fashion-MNIST files whole: minutes under -race (.ci/run runs this test without -race)")
	}
	if err := dataset.IDXComplete(dataset.FashionMNISTDir); err != nil {
		t.Skipf("SKIPPED: Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist; .ci/run does): %v", err)
	}
	snn := filepath.Join(t.TempDir(), "fashion.evsnn")
	code, _, stderr := runCLI(t, "--dataset", "fashion-mnist", "--log-level", "warn", "convert", "../../testdata/mnist_lenet.onnx", "--calib-images", "64", "-o", snn)
	if code != 0 {
		t.Fatalf("convert: exit %d: %s", code, stderr)
	}
	var ev, de analysis.Simulation
	runJSON(t, &ev, "--dataset", "fashion-mnist", "simulate", snn, "--images", "20", "--T", "8", "--json")
	runJSON(t, &de, "--dataset", "fashion-mnist", "simulate", snn, "--images", "20", "--T", "8", "--engine", "dense", "--json")
	if ev.Images != 20 || ev.Layers[0].Spikes == 0 || ev.Accuracy != de.Accuracy || ev.Layers[2].Spikes != de.Layers[2].Spikes {
		t.Errorf("event %d images, %d spikes, accuracy %v; dense accuracy %v", ev.Images, ev.Layers[0].Spikes, ev.Accuracy, de.Accuracy)
	}
	var fashion, digits analysis.Inspection
	runJSON(t, &fashion, "--dataset", "fashion-mnist", "inspect", "../../testdata/mnist_lenet.onnx", "--accuracy", "--images", "200", "--json")
	runJSON(t, &digits, "inspect", "../../testdata/mnist_lenet.onnx", "--accuracy", "--images", "200", "--json")
	if fashion.Data != "fashion-mnist test" || fashion.Images != 200 || *fashion.Accuracy > 0.5 || *digits.Accuracy < 0.95 {
		t.Errorf("a digit classifier on %s: %v; on %s: %v", fashion.Data, *fashion.Accuracy, digits.Data, *digits.Accuracy)
	}
}

// writeNPY writes a little-endian C-order .npy file (version 1.0).
func writeNPY(t *testing.T, path, descr string, shape []int, data any) {
	t.Helper()
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = fmt.Sprint(d)
	}
	tuple := strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	header := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, tuple)
	for (10+len(header)+1)%64 != 0 {
		header += " "
	}
	header += "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(header)))
	b.WriteString(header)
	binary.Write(&b, binary.LittleEndian, data)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// The same images as NumPy arrays simulate to the same numbers as from the
// built-in MNIST.
func TestNPYData(t *testing.T) {
	snn := fixtureSNNFile(t)
	set, err := models.TestSet()
	if err != nil {
		t.Fatal(err)
	}
	const n = 30
	dir := t.TempDir()
	labels := make([]int64, n)
	for i := range labels {
		labels[i] = int64(set.Labels[i])
	}
	writeNPY(t, filepath.Join(dir, "x_test.npy"), "<f4", []int{n, 1, 28, 28}, set.Images[:n*784])
	writeNPY(t, filepath.Join(dir, "y_test.npy"), "<i8", []int{n}, labels)
	var npy, idx analysis.Simulation
	runJSON(t, &npy, "--dataset", "npy", "--data", dir, "simulate", snn, "--T", "10", "--json")
	runJSON(t, &idx, "simulate", snn, "--images", fmt.Sprint(n), "--T", "10", "--json")
	if npy.Images != n || !slices.Equal(npy.AccuracyByStep, idx.AccuracyByStep) {
		t.Fatalf("npy: %d images, accuracy %v; mnist %v", npy.Images, npy.AccuracyByStep, idx.AccuracyByStep)
	}
	for k := range npy.Layers {
		if npy.Layers[k].Spikes != idx.Layers[k].Spikes || npy.Layers[k].SOPs != idx.Layers[k].SOPs {
			t.Errorf("layer %d: npy %+v, mnist %+v", k, npy.Layers[k], idx.Layers[k])
		}
	}
}

// Data that does not fit the model, or the flags, is refused with exit
// status 2, one line, and no output file.
func TestBadData(t *testing.T) {
	dir := t.TempDir()
	cifar := filepath.Join(dir, "cifar-10-batches-bin")
	if err := os.MkdirAll(cifar, 0o755); err != nil {
		t.Fatal(err)
	}
	// Two CIFAR-10 records: a label byte, then 3×32×32 pixels.
	rec := make([]byte, 2*3073)
	rec[0], rec[3073] = 3, 7
	for _, f := range []string{"test_batch.bin", "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"} {
		if err := os.WriteFile(filepath.Join(cifar, f), rec, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "out")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown set", []string{"--dataset", "imagenet", "simulate"}, `--dataset "imagenet"`},
		{"bad normalisation", []string{"--normalize", "0.5", "simulate"}, "--normalize"},
		{"zero deviation", []string{"--normalize", "0.5,0", "simulate"}, "--normalize"},
		{"poisson on normalised data", []string{"--normalize", "0.1307,0.3081", "simulate", "--encoding", "poisson", "--images", "2"}, "must lie in [0, 1]"},
		{"CIFAR images into an MNIST model", []string{"--dataset", "cifar10", "--data", dir, "simulate", "../../testdata/mnist_lenet.onnx"}, "the model takes [1,28,28] inputs, cifar10 test images are [3,32,32]"},
		{"CIFAR calibration set", []string{"--dataset", "cifar10", "--data", dir, "convert", "../../testdata/mnist_lenet.onnx", "--calib-images", "2", "-o", out}, "the model takes [1,28,28] inputs"},
		{"no such data", []string{"--dataset", "kmnist", "--data", filepath.Join(dir, "nope"), "report", "-o", out}, "kmnist"},
		{"the demo on other data", []string{"--dataset", "fashion-mnist", "demo", "-o", out}, "the demo runs the built-in MNIST CNN on MNIST"},
		{"CIFAR-100 directory missing", []string{"--dataset", "cifar100", "--data", dir, "profile"}, "cifar100"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, append([]string{"--log-level", "error"}, tc.args...)...)
			last := lastLine(stderr)
			if code != 2 || !strings.HasPrefix(last, "evsnn: ") || !strings.Contains(last, tc.want) || stdout != "" {
				t.Errorf("exit %d, stdout %q, last line %q: want 2 and a line naming %q", code, stdout, last, tc.want)
			}
		})
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("output %s left behind (%v)", out, err)
	}
}
