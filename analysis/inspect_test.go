package analysis_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/analysis"
	"github.com/evsnn/evsnn/internal/fixture"
	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/network"
)

// Inspect shows the graph: every node's inputs and shape, the Add's two
// inputs, MACs of each node on its input.
func TestInspectGraph(t *testing.T) {
	run := fixture.RandomRun(t, snnref.ResNet, 2, 1, 2)
	net := run.Net
	rep, err := analysis.Inspect(net)
	if err != nil {
		t.Fatal(err)
	}
	shapes, _ := net.Shapes()
	if rep.Chain || !rep.SNN || len(rep.Layers) != len(net.Layers) {
		t.Fatalf("chain %v, SNN %v, %d nodes", rep.Chain, rep.SNN, len(rep.Layers))
	}
	adds, params, macs := 0, 0, 0
	for i, l := range rep.Layers {
		if !slices.Equal(l.Inputs, net.InputsOf(i)) || !slices.Equal(l.Output, shapes[i]) || l.Name != net.Layers[i].Name() {
			t.Errorf("node %d: %+v", i, l)
		}
		if want := net.Layers[i].MACs(net.ShapeOf(shapes, net.InputsOf(i)[0])); l.MACs != want {
			t.Errorf("node %d (%s): %d MACs, want %d", i, l.Name, l.MACs, want)
		}
		if l.Kind == string(network.KindAdd) {
			adds++
			if len(l.Inputs) != 2 {
				t.Errorf("add %s reads %v", l.Name, l.Inputs)
			}
		}
		params += l.Params
		macs += l.MACs
	}
	if adds == 0 || params != rep.Params || macs != rep.MACs || params != net.NumParams() {
		t.Errorf("%d adds, params %d/%d/%d, MACs %d/%d", adds, params, rep.Params, net.NumParams(), macs, rep.MACs)
	}
	var b bytes.Buffer
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "a graph") || !strings.Contains(out, "inputs") || !strings.Contains(out, "+") || !strings.Contains(out, "IF, soft reset") {
		t.Errorf("table:\n%s", out)
	}
}
