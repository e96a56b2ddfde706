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
