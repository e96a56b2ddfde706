//go:build hdf5

package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/analysis"
)

// A converted LeNet exported to NIR simulates as the model file does; the
// ResNet's MaxPool has no NIR form and is refused, with nothing written.
func TestExportNIR(t *testing.T) {
	dir := t.TempDir()
	lenet, out := fixtureSNNFile(t), filepath.Join(dir, "lenet.nir")
	if code, _, stderr := runCLI(t, "--log-level", "warn", "export", lenet, "-o", out); code != 0 {
		t.Fatalf("export: exit %d: %s", code, stderr)
	}
	var fromNIR, fromFile analysis.Simulation
	runJSON(t, &fromNIR, "simulate", out, "--images", "10", "--T", "8", "--json")
	runJSON(t, &fromFile, "simulate", lenet, "--images", "10", "--T", "8", "--json")
	if !slices.Equal(fromNIR.AccuracyByStep, fromFile.AccuracyByStep) || fromNIR.Layers[1].Spikes != fromFile.Layers[1].Spikes {
		t.Errorf("NIR %v %+v\nfile %v %+v", fromNIR.AccuracyByStep, fromNIR.Layers, fromFile.AccuracyByStep, fromFile.Layers)
	}
	refused := filepath.Join(dir, "resnet.nir")
	code, _, stderr := runCLI(t, "export", resnetSNNFile(t), "-o", refused)
	if last := lastLine(stderr); code != 2 || !strings.Contains(last, "max pooling") {
		t.Errorf("ResNet export: exit %d, %q", code, last)
	}
	if _, err := os.Stat(refused); !os.IsNotExist(err) {
		t.Errorf("%s written (%v)", refused, err)
	}
}
