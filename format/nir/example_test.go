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
