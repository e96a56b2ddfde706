package analysis_test

import (
	"testing"

	"github.com/evsnn/evsnn/analysis"
	"github.com/evsnn/evsnn/dataset"
	"github.com/evsnn/evsnn/engines"
	"github.com/evsnn/evsnn/internal/fixture"
	"github.com/evsnn/evsnn/network"
)

// inputsOf makes the inputs of an analysis from a random reference run:
// the SNN run as its own ANN (so the labels, its ANN predictions, are all
// right for the ANN), on the run's images.
func inputsOf(run *fixture.Run, opts network.SimOptions) *analysis.Inputs {
	c, h, w := 1, 1, run.Net.Input.Size()
	if in := run.Net.Input; len(in) == 3 {
		c, h, w = in[0], in[1], in[2]
	}
	classes := 0
	for _, l := range run.Labels {
		classes = max(classes, l+1)
	}
	set := &dataset.Set{Name: "random test", Images: run.Images, Labels: run.Labels, N: run.Count, C: c, H: h, W: w, Classes: classes}
	return &analysis.Inputs{ANN: run.Net, SNN: run.Net, Set: set, Opts: opts, Model: "random " + run.Net.Layers[0].Name()}
}

// analysisEngine is engines.ByName for tests.
func analysisEngine(t *testing.T, name string) (network.Engine, error) {
	t.Helper()
	e, err := engines.ByName(name)
	if err != nil {
		t.Fatal(err)
	}
	return e, nil
}
