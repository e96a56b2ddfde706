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
