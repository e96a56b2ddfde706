package nir

import (
	"math"
	"strings"
	"testing"
)

// TestImportErrors breaks the exported hand network (or the foreign LIF
// graph) one way at a time; each error must name the node at fault.
func TestImportErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		base   func(t *testing.T) *Graph
		break_ func(g *Graph)
		want   []string
	}{
		{"unknown type", exported, func(g *Graph) { g.Nodes["pool1"].Type = "MaxPool2d" }, []string{`"pool1"`, "MaxPool2d", "not supported"}},
		{"missing weight", exported, func(g *Graph) { delete(g.Nodes["fc1"].Params, "weight") }, []string{`"fc1"`, `missing parameter "weight"`}},
		{"missing threshold", exported, func(g *Graph) { delete(g.Nodes["sp2"].Params, "v_threshold") }, []string{`"sp2"`, `"v_threshold"`}},
		{"missing tau", exported, func(g *Graph) { delete(g.Nodes["sp2"].Params, "tau") }, []string{`"sp2"`, `"tau"`}},
		{"weight shape", exported, func(g *Graph) {
			p := g.Nodes["fc1"].Params["weight"]
			p.Shape = []int{16, 8}
			g.Nodes["fc1"].Params["weight"] = p
		}, []string{`"fc1"`, "16"}},
		{"values vs shape", exported, func(g *Graph) {
			p := g.Nodes["fc2"].Params["weight"]
			p.F32 = p.F32[:5]
			g.Nodes["fc2"].Params["weight"] = p
		}, []string{`"fc2"`, `"weight"`, "5 values"}},
		{"bias shape", exported, func(g *Graph) {
			g.Nodes["conv2"].Params["bias"] = F32Array([]int{3}, []float32{1, 2, 3})
		}, []string{`"conv2"`, `"bias"`}},
		{"threshold shape", exported, func(g *Graph) {
			g.Nodes["sp3"].Params["v_threshold"] = F32Array([]int{3}, []float32{1, 2, 3})
		}, []string{`"sp3"`, `"v_threshold"`}},
		{"NaN weight", exported, func(g *Graph) { g.Nodes["conv1"].Params["weight"].F32[4] = float32(math.NaN()) }, []string{`"conv1"`, "NaN"}},
		{"NaN threshold", exported, func(g *Graph) { g.Nodes["sp1"].Params["v_threshold"].F32[0] = float32(math.NaN()) }, []string{`"sp1"`, "NaN"}},
		{"zero threshold", exported, func(g *Graph) { g.Nodes["sp3"].Params["v_threshold"].F32[1] = 0 }, []string{`"sp3"`, "threshold"}},
		{"Inf tau", exported, func(g *Graph) { g.Nodes["sp2"].Params["tau"].F32[0] = float32(math.Inf(1)) }, []string{`"sp2"`, "Inf"}},
		{"tau below dt", exported, func(g *Graph) {
			for i := range g.Nodes["sp2"].Params["tau"].F32 {
				g.Nodes["sp2"].Params["tau"].F32[i] = 0.5
			}
		}, []string{`"sp2"`, "tau"}},
		{"tau per neuron", exported, func(g *Graph) { g.Nodes["sp2"].Params["tau"].F32[3] = 3 }, []string{`"sp2"`, "tau differs"}},
		{"v_reset", exported, func(g *Graph) { g.Nodes["sp1"].Params["v_reset"].F32[0] = 0.5 }, []string{`"sp1"`, "v_reset"}},
		{"threshold within channel", exported, func(g *Graph) { g.Nodes["sp1"].Params["v_threshold"].F32[1] = 0.71 }, []string{`"sp1"`, "channel"}},
		{"groups", exported, func(g *Graph) { g.Nodes["conv2"].Params["groups"] = I64Scalar(3) }, []string{`"conv2"`, "groups"}},
		{"dilation", exported, func(g *Graph) { g.Nodes["conv1"].Params["dilation"] = I64Array(2, 2) }, []string{`"conv1"`, "dilation"}},
		{"pool padding", exported, func(g *Graph) { g.Nodes["pool1"].Params["padding"] = I64Array(2, 1) }, []string{`"pool1"`, "padding must be at most half the kernel"}},
		{"input_shape", exported, func(g *Graph) { g.Nodes["conv2"].Params["input_shape"] = I64Array(4, 4) }, []string{`"conv2"`, "input_shape"}},
		{"flatten input_type", exported, func(g *Graph) { g.Nodes["flat"].Params["input_type"] = I64Array(4, 4) }, []string{`"flat"`, "input_type"}},
		{"flatten partial", exported, func(g *Graph) { g.Nodes["flat"].Params["start_dim"] = I64Scalar(1) }, []string{`"flat"`, "vector"}},
		{"string weight", exported, func(g *Graph) { g.Nodes["fc1"].Params["weight"] = Str("x") }, []string{`"fc1"`, "weight"}},
		{"input shape", exported, func(g *Graph) { g.Nodes["input"].Params["shape"] = I64Array(2, 6) }, []string{`"input"`, "shape"}},
		{"output shape", exported, func(g *Graph) { g.Nodes["output"].Params["shape"] = I64Array(7) }, []string{`"output"`, "shape"}},
		{"no flatten", exported, func(g *Graph) {
			delete(g.Nodes, "flat")
			g.Order = remove(g.Order, "flat")
			g.Edges = replaceEdges(g.Edges, [][2]string{{"sp2_amplitude", "flat"}, {"flat", "fc1"}}, [][2]string{{"sp2_amplitude", "fc1"}})
		}, []string{`"fc1"`, "Flatten"}},
		{"edge to nowhere", exported, func(g *Graph) { g.Connect("fc2", "ghost") }, []string{`"ghost"`}},
		{"branch", exported, func(g *Graph) { g.Connect("conv1", "pool1") }, []string{`node "pool1" (AvgPool2d): 2 edges into it`, `"conv1"`, "sums"}},
		{"merge", exported, func(g *Graph) { g.Connect("input", "pool1") }, []string{`"pool1"`, `"input"`}},
		{"sum into affine", exported, func(g *Graph) { g.Connect("sp2_amplitude", "fc2") }, []string{`node "fc2" (Linear): 2 edges into it`}},
		{"sum into output", exported, func(g *Graph) { g.Connect("sp3_amplitude", "output") }, []string{`node "output" (Output): 2 edges into it`}},
		{"sum of shapes", exported, func(g *Graph) { g.Connect("conv1", "sp2") }, []string{`node "sp2" (LIF)`, "shapes [4,2,2]", "[3,6,6]"}},
		{"conv feeds two neurons", exported, func(g *Graph) {
			g.Add("sp1b", &Node{Type: "IF", Params: map[string]Param{"r": F32Scalar(1), "v_threshold": F32Scalar(1)}})
			g.Connect("conv1", "sp1b")
			g.Connect("sp1b", "pool1")
		}, []string{`"conv1"`, "feeds one neuron layer"}},
		{"duplicate edge", exported, func(g *Graph) { g.Connect("conv1", "sp1") }, []string{`"conv1"`, "listed twice"}},
		{"self edge", exported, func(g *Graph) { g.Connect("sp1", "sp1") }, []string{`"sp1"`, "itself"}},
		{"two-node cycle", exported, func(g *Graph) { g.Connect("conv2", "pool1") }, []string{"cycle"}},
		{"broken chain", exported, func(g *Graph) {
			g.Edges = replaceEdges(g.Edges, [][2]string{{"fc1", "sp3"}}, nil)
		}, []string{`"fc1"`, "no edge leaves"}},
		{"cycle", exported, func(g *Graph) { g.Connect("output", "conv1") }, []string{`"`}},
		{"two inputs", exported, func(g *Graph) {
			g.Add("input2", &Node{Type: "Input", Params: map[string]Param{"shape": I64Array(3)}})
		}, []string{"Input nodes", `"input2"`}},
		{"no output", exported, func(g *Graph) { g.Nodes["output"].Type = "Scale" }, []string{"0 Output nodes"}},
		{"off chain", exported, func(g *Graph) {
			g.Add("stray", &Node{Type: "Scale", Params: map[string]Param{"scale": F32Scalar(1)}})
		}, []string{`"stray"`, "no edge leads into it"}},
		{"neuron first", foreign, func(g *Graph) {
			g.Edges = replaceEdges(g.Edges, [][2]string{{"in", "fc1"}, {"fc1", "lif1"}}, [][2]string{{"in", "lif1"}})
			delete(g.Nodes, "fc1")
			g.Order = remove(g.Order, "fc1")
		}, []string{`"lif1"`, "must follow"}},
		{"bad reset metadata", exported, func(g *Graph) { g.Nodes["sp1"].Metadata[MetaReset] = Str("sideways") }, []string{`"sp1"`, "sideways"}},
		{"nested graph", exported, func(g *Graph) { g.Nodes["pool1"].Type = "NIRGraph" }, []string{`"pool1"`, "nested"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := tc.base(t)
			tc.break_(g)
			_, err := ToNetwork(g)
			if err == nil {
				t.Fatal("no error")
			}
			t.Log(err)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func exported(t *testing.T) *Graph {
	g, err := FromNetwork(handNet(t))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func foreign(t *testing.T) *Graph { return affineLIFGraph() }

func remove(s []string, x string) []string {
	var out []string
	for _, v := range s {
		if v != x {
			out = append(out, v)
		}
	}
	return out
}

func replaceEdges(edges [][2]string, drop, add [][2]string) [][2]string {
	var out [][2]string
	for _, e := range edges {
		keep := true
		for _, d := range drop {
			if e == d {
				keep = false
			}
		}
		if keep {
			out = append(out, e)
		}
	}
	return append(out, add...)
}
