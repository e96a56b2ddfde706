package modelfile_test

import (
	"bytes"
	"fmt"
	"log"

	"github.com/evsnn/evsnn/format/modelfile"
	"github.com/evsnn/evsnn/network"
)

func Example() {
	// A tiny converted network: 4 inputs, one IF layer, a 2-way readout.
	net := &network.Network{
		Input: network.Shape{4},
		Layers: []network.Layer{
			&network.Linear{LayerName: "fc1", In: 4, Out: 3,
				Weight: []float32{0.1, 0.2, 0.3, 0.4, -0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.1, 1.2}, Bias: []float32{0, 0.1, -0.1}},
			&network.Spiking{LayerName: "if1", Threshold: []float32{1.25}, Alpha: 1, Reset: network.ResetSoft},
			&network.Linear{LayerName: "fc2", In: 3, Out: 2, Weight: []float32{1, -1, 0.5, -0.5, 1, 1}, Bias: []float32{0, 0}},
		},
		Meta: network.Metadata{Source: "example"},
	}

	var buf bytes.Buffer // modelfile.Save(path, net) writes a file atomically
	if err := modelfile.Encode(&buf, net); err != nil {
		log.Fatal(err)
	}
	data := buf.Bytes()
	fmt.Println("sniffed as a model file:", modelfile.IsModelFile(data))

	got, err := modelfile.Decode(data) // modelfile.Load(path) reads a file
	if err != nil {
		log.Fatal(err)
	}
	for i, l := range got.Layers {
		fmt.Println(i, l.Kind(), l.Name())
	}
	fmt.Println("threshold:", got.Layers[1].(*network.Spiking).Threshold, "source:", got.Meta.Source)
	// Output:
	// sniffed as a model file: true
	// 0 linear fc1
	// 1 spiking if1
	// 2 linear fc2
	// threshold: [1.25] source: example
}

// A residual block: the Add lists its inputs by name; every other layer
// reads the one before it, so the file lists nothing for them.
func Example_graph() {
	w := func(n int) []float32 { return make([]float32, n) }
	net := &network.Network{
		Input: network.Shape{1, 4, 4},
		Layers: []network.Layer{
			&network.Conv2d{LayerName: "stem", InC: 1, OutC: 2, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, Weight: w(18), Bias: w(2)},
			&network.Spiking{LayerName: "sp1", Threshold: []float32{1}, Alpha: 1, Reset: network.ResetSoft},
			&network.Conv2d{LayerName: "conv", InC: 2, OutC: 2, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, Weight: w(36), Bias: w(2)},
			&network.Add{LayerName: "add", Bias: []float32{0.5, -0.5}},
			&network.Spiking{LayerName: "sp2", Threshold: []float32{1}, Alpha: 1, Reset: network.ResetSoft},
			&network.GlobalAvgPool{LayerName: "gap"},
			&network.Flatten{LayerName: "flat"},
			&network.Linear{LayerName: "fc", In: 2, Out: 3, Weight: w(6), Bias: w(3)},
		},
		// The Add sums the conv and the identity shortcut from sp1.
		Inputs: [][]int{{network.InputNode}, {0}, {1}, {2, 1}, {3}, {4}, {5}, {6}},
	}
	var buf bytes.Buffer
	if err := modelfile.Encode(&buf, net); err != nil {
		log.Fatal(err)
	}
	got, err := modelfile.Decode(buf.Bytes())
	if err != nil {
		log.Fatal(err)
	}
	for i, l := range got.Layers {
		var from []string
		for _, j := range got.InputsOf(i) {
			if j == network.InputNode {
				from = append(from, "input")
			} else {
				from = append(from, got.Layers[j].Name())
			}
		}
		fmt.Println(l.Kind(), l.Name(), "<-", from)
	}
	fmt.Println("add bias:", got.Layers[3].(*network.Add).Bias)
	// Output:
	// conv2d stem <- [input]
	// spiking sp1 <- [stem]
	// conv2d conv <- [sp1]
	// add add <- [conv sp1]
	// spiking sp2 <- [add]
	// globalavgpool gap <- [sp2]
	// flatten flat <- [gap]
	// linear fc <- [flat]
	// add bias: [0.5 -0.5]
}
