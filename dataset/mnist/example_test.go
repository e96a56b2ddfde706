package mnist_test

import (
	"bytes"
	"fmt"
	"log"

	"github.com/evsnn/evsnn/dataset/mnist"
)

func ExampleReadIDX() {
	// A labels file: magic 0x00000801, one dimension (3), three bytes.
	file := []byte{0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1}
	dims, data, err := mnist.ReadIDX(bytes.NewReader(file))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(dims, data)
	// Output: [3] [7 2 1]
}

func ExampleLoadDefault() {
	// "" means the default data: the GoMNIST module in the Go module cache.
	test, err := mnist.LoadDefault("", mnist.Test)
	if err != nil {
		log.Fatal(err) // says how to get the data, or to pass --data DIR
	}
	train, err := mnist.LoadDefaultN("", mnist.Train, 1024) // the calibration images
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(test.N, train.N, test.Labels[0], len(test.Image(0)))
}
