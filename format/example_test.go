package format_test

import (
	"fmt"

	"github.com/evsnn/evsnn/format"
)

// Load tells the format from the file: here an ONNX export of PyTorch.
func ExampleLoad() {
	net, err := format.Load("../testdata/mnist_lenet.onnx")
	if err != nil {
		panic(err)
	}
	fmt.Println(net.Input, len(net.Layers), "layers,", net.NumParams(), "parameters")
	// Output:
	// [1,28,28] 10 layers, 215370 parameters
}
