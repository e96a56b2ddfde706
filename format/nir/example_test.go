package nir_test

import (
	"fmt"

	"github.com/evsnn/evsnn/format/nir"
	"github.com/evsnn/evsnn/network"
)

// Export a small converted network (Linear → LIF → Linear readout) to a NIR
// graph and import it back. With the hdf5 build tag, nir.WriteFile and
// nir.ReadFile put the graph in a .nir file in between.
func Example() {
	snn := &network.Network{
		Input: network.Shape{2},
		Layers: []network.Layer{
			&network.Linear{LayerName: "fc1", In: 2, Out: 2, Weight: []float32{1, 0.5, -0.5, 1}, Bias: []float32{0.1, 0}},
			&network.Spiking{LayerName: "lif1", Threshold: []float32{0.8}, Alpha: 0.75, Reset: network.ResetSoft},
			&network.Linear{LayerName: "out", In: 2, Out: 2, Weight: []float32{1, 0, 0, 1}, Bias: []float32{0, 0}},
		},
	}
	g, err := nir.FromNetwork(snn)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, name := range g.Order {
		fmt.Printf("%s: %s\n", name, g.Nodes[name].Type)
	}
	lif := g.Nodes["lif1"]
	fmt.Println("tau", lif.Params["tau"].F32, "r", lif.Params["r"].F32, "v_threshold", lif.Params["v_threshold"].F32)

	back, err := nir.ToNetwork(g)
	if err != nil {
		fmt.Println(err)
		return
	}
	s := back.Layers[1].(*network.Spiking)
	fmt.Println("alpha", s.Alpha, "reset", s.Reset, "threshold", s.Threshold)
	// Output:
	// input: Input
	// fc1: Affine
	// lif1: LIF
	// lif1_amplitude: Scale
	// out: Linear
	// output: Output
	// tau [4 4] r [4 4] v_threshold [0.8 0.8]
	// alpha 0.75 reset soft threshold [0.8]
}

// Export a residual block: the Add has no node of its own, its two
// branches are two edges into the neuron node after it (NIR sums the
// edges into a node), and its bias goes into the convolution's. Import
// turns the two edges back into the Add.
func Example_residual() {
	w := func(n int) []float32 { return make([]float32, n) }
	snn := &network.Network{
		Input: network.Shape{1, 4, 4},
		Layers: []network.Layer{
			&network.Conv2d{LayerName: "stem", InC: 1, OutC: 2, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, Weight: w(18), Bias: w(2)},
			&network.Spiking{LayerName: "sp1", Threshold: []float32{1}, Alpha: 1, Reset: network.ResetSoft},
			&network.Conv2d{LayerName: "conv", InC: 2, OutC: 2, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, Weight: w(36), Bias: []float32{1, 1}},
			&network.Add{LayerName: "add", Bias: []float32{0.5, 0.25}},
			&network.Spiking{LayerName: "sp2", Threshold: []float32{1}, Alpha: 1, Reset: network.ResetSoft},
			&network.GlobalAvgPool{LayerName: "gap"},
			&network.Flatten{LayerName: "flat"},
			&network.Linear{LayerName: "fc", In: 2, Out: 3, Weight: w(6), Bias: w(3)},
		},
		// conv and the identity shortcut from sp1 into the Add.
		Inputs: [][]int{{network.InputNode}, {0}, {1}, {2, 1}, {3}, {4}, {5}, {6}},
	}
	g, err := nir.FromNetwork(snn)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range g.Edges {
		if e[1] == "sp2" {
			fmt.Println("edge", e[0], "->", e[1])
		}
	}
	fmt.Println("gap:", g.Nodes["gap"].Type, g.Nodes["gap"].Params["kernel_size"].I64)
	fmt.Println("conv bias:", g.Nodes["conv"].Params["bias"].F32)

	back, err := nir.ToNetwork(g)
	if err != nil {
		fmt.Println(err)
		return
	}
	add := back.Layers[3].(*network.Add)
	fmt.Println(add.Name(), back.InputsOf(3), add.Bias, back.Layers[2].(*network.Conv2d).Bias)
	// Output:
	// edge conv -> sp2
	// edge sp1_amplitude -> sp2
	// gap: AvgPool2d [4 4]
	// conv bias: [1.5 1.25]
	// add [2 1] [0.5 0.25] [1 1]
}
