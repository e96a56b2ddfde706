package main

import (
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	a, err := run("../../testdata/mnist_resnet.onnx", 12, 12, 64)
	if err != nil {
		t.Fatal(err)
	}
	c := a.Comparison
	if len(a.Profile.Layers) != 5 || c.Images != 12 || c.SamePredictions+len(c.Disagreements) != 12 || a.Profile.Layers[0].RelError == nil {
		t.Fatalf("%d layers, comparison %+v", len(a.Profile.Layers), c)
	}
	if stem := a.Profile.Layers[0]; !strings.Contains(stem.Target, ", ") {
		t.Errorf("the stem's spikes feed %q: want the block's convolution and its shortcut", stem.Target)
	}
}
