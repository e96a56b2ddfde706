package scipy_test

import (
	"fmt"

	"github.com/evsnn/evsnn/format/scipy"
	"github.com/evsnn/evsnn/network"
)

// A matrix saved in Python with
//
//	scipy.sparse.save_npz("small_csr.npz", m)   # m: W [out, in], CSR
//
// becomes the fan-out lists of a projection.
func ExampleReadCSR() {
	w, err := scipy.ReadCSR("testdata/small_csr.npz")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("W is [%d, %d] with %d synapses\n", w.Out, w.In, len(w.Weights))
	for j := range w.In {
		targets, weights := w.Synapses(j)
		fmt.Println("input", j, "->", targets, weights)
	}
	// Output:
	// W is [3, 6] with 5 synapses
	// input 0 -> [2] [2]
	// input 1 -> [0] [1.5]
	// input 2 -> [1] [0]
	// input 3 -> [0] [-0.25]
	// input 4 -> [2] [-3]
	// input 5 -> [] []
}

// ReadInto puts the matrix into a named Linear layer of a network, which
// keeps its name and bias.
func ExampleReadInto() {
	net := &network.Network{Input: network.Shape{6}, Layers: []network.Layer{
		&network.Linear{LayerName: "fc1", In: 6, Out: 3, Weight: make([]float32, 18), Bias: []float32{1, 1, 1}},
	}}
	pruned, err := scipy.ReadInto(net, "fc1", "testdata/small_csr.npz")
	if err != nil {
		fmt.Println(err)
		return
	}
	l := pruned.Layers[0]
	fmt.Println(l.Kind(), l.Name(), "parameters:", l.NumParams())
	_, err = scipy.ReadInto(net, "fc2", "testdata/small_csr.npz")
	fmt.Println(err)
	// Output:
	// sparselinear fc1 parameters: 8
	// scipy: testdata/small_csr.npz as the weights of "fc2": the network has no layer named "fc2"
}
