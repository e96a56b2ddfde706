package onnx_test

import (
	"fmt"
	"log"

	"github.com/evsnn/evsnn/format/onnx"
)

func Example() {
	net, err := onnx.Import("../../testdata/mnist_lenet.onnx")
	if err != nil {
		log.Fatal(err)
	}
	shapes, err := net.Shapes()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(net.Meta.Source, "input", net.Input)
	for i, l := range net.Layers {
		fmt.Printf("%-8s %-9s %v\n", l.Name(), l.Kind(), shapes[i])
	}
	// Output:
	// onnx:mnist_lenet.onnx input [1,28,28]
	// conv1    conv2d    [16,28,28]
	// relu1    relu      [16,28,28]
	// pool1    avgpool2d [16,14,14]
	// conv2    conv2d    [32,14,14]
	// relu2    relu      [32,14,14]
	// pool2    avgpool2d [32,7,7]
	// flatten  flatten   [1568]
	// fc1      linear    [128]
	// relu3    relu      [128]
	// fc2      linear    [10]
}

// A residual network imports as a graph: each layer lists the layers it
// reads (-1 is the input); the Adds join the shortcuts.
func ExampleImport_resNet() {
	net, err := onnx.Import("../../testdata/mnist_resnet.onnx")
	if err != nil {
		log.Fatal(err)
	}
	shapes, err := net.Shapes()
	if err != nil {
		log.Fatal(err)
	}
	for i, l := range net.Layers {
		fmt.Printf("layer %2d %-17s %-13s %-10v reads %v\n", i, l.Name(), l.Kind(), shapes[i], net.InputsOf(i))
	}
	// Output:
	// layer  0 stem.0            conv2d        [16,28,28] reads [-1]
	// layer  1 stem.2.relu       relu          [16,28,28] reads [0]
	// layer  2 pool.maxpool      maxpool2d     [16,14,14] reads [1]
	// layer  3 blocks.0.c1       conv2d        [16,14,14] reads [2]
	// layer  4 blocks.0.relu     relu          [16,14,14] reads [3]
	// layer  5 blocks.0.c2       conv2d        [16,14,14] reads [4]
	// layer  6 blocks.0.add      add           [16,14,14] reads [5 2]
	// layer  7 blocks.0.relu_1   relu          [16,14,14] reads [6]
	// layer  8 blocks.1.c1       conv2d        [32,7,7]   reads [7]
	// layer  9 blocks.1.relu     relu          [32,7,7]   reads [8]
	// layer 10 blocks.1.c2       conv2d        [32,7,7]   reads [9]
	// layer 11 blocks.1.down.0   conv2d        [32,7,7]   reads [7]
	// layer 12 blocks.1.add      add           [32,7,7]   reads [10 11]
	// layer 13 blocks.1.relu_1   relu          [32,7,7]   reads [12]
	// layer 14 globalaveragepool globalavgpool [32,1,1]   reads [13]
	// layer 15 flatten           flatten       [32]       reads [14]
	// layer 16 fc                linear        [10]       reads [15]
}
