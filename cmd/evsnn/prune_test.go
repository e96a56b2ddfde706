package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/analysis"
	"github.com/evsnn/evsnn/format/modelfile"
	"github.com/evsnn/evsnn/network"
)

// prune on the LeNet fixture (64 test images, T = 16): fc1 keeps 10 % of
// its synapses, the SOPs drop, and the file written is the pruned SNN.
func TestPruneCommand(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "pruned.evsnn")
	var p analysis.Pruning
	runJSON(t, &p, "prune", "../../testdata/mnist_lenet.onnx", "--sparsity", "0.9", "--layers", "fc1",
		"--T", "16", "--images", "64", "--calib-images", "64", "-o", out, "--json")
	if p.Images != 64 || p.T != 16 || len(p.Report.Layers) != 1 || p.Report.Layers[0].After != 20070 {
		t.Fatalf("pruning %+v", p)
	}
	if p.After.SOPsPerImage >= p.Before.SOPsPerImage || p.After.Synapses >= p.Before.Synapses {
		t.Errorf("SOPs %.0f → %.0f, synapses %d → %d", p.Before.SOPsPerImage, p.After.SOPsPerImage, p.Before.Synapses, p.After.Synapses)
	}
	net, err := modelfile.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if sp, ok := net.Layers[net.Index("fc1")].(*network.SparseLinear); !ok || len(sp.Weights) != 20070 || !net.IsSNN() {
		t.Errorf("fc1 of the file written: %T, SNN %v", net.Layers[net.Index("fc1")], net.IsSNN())
	}
	code, stdout, stderr := runCLI(t, "prune", "../../testdata/mnist_lenet.onnx", "--sparsity", "0.5",
		"--T", "8", "--images", "16", "--calib-images", "16", "-o", filepath.Join(dir, "all.evsnn"))
	// By default every Linear layer but the readout.
	if code != 0 || !strings.Contains(stdout, "fc1 ") || strings.Contains(stdout, "fc2 ") || !strings.Contains(stdout, "SNN accuracy") {
		t.Errorf("prune by default: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

func TestPruneBadInput(t *testing.T) {
	dir := t.TempDir()
	snn := filepath.Join(dir, "snn.evsnn")
	if code, _, stderr := runCLI(t, "--log-level", "warn", "convert", "../../testdata/mnist_lenet.onnx", "--calib-images", "16", "-o", snn); code != 0 {
		t.Fatalf("convert: exit %d: %s", code, stderr)
	}
	out := filepath.Join(dir, "out.evsnn")
	lenet := "../../testdata/mnist_lenet.onnx"
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"sparsity 1", []string{lenet, "--sparsity", "1"}, "sparsity 1"},
		{"conv", []string{lenet, "--sparsity", "0.5", "--layers", "conv2"}, "not a Linear layer"},
		{"snn", []string{snn, "--sparsity", "0.5"}, "prune takes the ANN"},
		{"method", []string{lenet, "--sparsity", "0.5", "--calibrate", "frob"}, "frob"},
		{"T", []string{lenet, "--sparsity", "0.5", "--T", "0"}, "--T 0"},
		{"images", []string{lenet, "--sparsity", "0.5", "--images=-1"}, "--images -1"},
		{"missing model", []string{filepath.Join(dir, "nope.onnx"), "--sparsity", "0.5"}, "nope.onnx"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The case's flags come last: they override the defaults.
			wantBadInput(t, tc.want, append([]string{"prune", "--calib-images", "16", "--images", "16", "-o", out}, tc.args...)...)
			if _, err := os.Stat(out); err == nil {
				t.Error("output written despite the error")
			}
		})
	}
}
