package convert_test

import (
	"fmt"

	"github.com/evsnn/evsnn/convert"
	"github.com/evsnn/evsnn/network"
)

// Pruning fc1 to sparsity 0.5 keeps its two largest weights by magnitude,
// as the synapses of a SparseLinear; the readout is left dense.
func ExamplePrune() {
	ann := &network.Network{Input: network.Shape{2}, Layers: []network.Layer{
		&network.Linear{LayerName: "fc1", In: 2, Out: 2, Weight: []float32{0.9, -0.1, 0.2, -1.5}, Bias: []float32{0, 0}},
		&network.ReLU{LayerName: "relu"},
		&network.Linear{LayerName: "out", In: 2, Out: 2, Weight: []float32{1, -1, -1, 1}, Bias: []float32{0, 0}},
	}}
	pruned, report, err := convert.Prune(ann, 0.5, []string{"fc1"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fc1 := pruned.Layers[0].(*network.SparseLinear)
	fmt.Println(fc1.Kind(), "weights:", fc1.Dense())
	fmt.Println(pruned.Layers[2].Kind(), "readout")
	before, after := report.Synapses()
	fmt.Println("synapses:", before, "→", after)
	// Output:
	// sparselinear weights: [0.9 0 0 -1.5]
	// linear readout
	// synapses: 4 → 2
}
