package modelfile_test

import (
	"bytes"
	"fmt"
	"log"

	"github.com/evsnn/evsnn/format/modelfile"
	"github.com/evsnn/evsnn/network"
)

// A pruned projection is stored as its synapse lists (version 3): Python
// reads its weights as scipy.sparse.csc_matrix((data, indices, indptr)).
func Example_sparse() {
	fc1 := network.Sparsify(&network.Linear{LayerName: "fc1", In: 3, Out: 2,
		Weight: []float32{0.5, 0, 0, 0, 0, -1}, Bias: []float32{0, 0.25}})
	net := &network.Network{Input: network.Shape{3}, Layers: []network.Layer{
		fc1,
		&network.ReLU{LayerName: "relu"},
		&network.Linear{LayerName: "out", In: 2, Out: 2, Weight: []float32{1, 0, 0, 1}, Bias: []float32{0, 0}},
	}}
	var buf bytes.Buffer
	if err := modelfile.Encode(&buf, net); err != nil {
		log.Fatal(err)
	}
	got, err := modelfile.Decode(buf.Bytes())
	if err != nil {
		log.Fatal(err)
	}
	sp := got.Layers[0].(*network.SparseLinear)
	fmt.Println("version", modelfile.FileVersion(got), sp.Kind(), sp.Name())
	fmt.Println("indptr", sp.Ptr, "indices", sp.Targets, "data", sp.Weights)
	// Output:
	// version 3 sparselinear fc1
	// indptr [0 1 1 2] indices [0 1] data [0.5 -1]
}
