package models_test

import (
	"fmt"
	"log"

	"github.com/evsnn/evsnn/models"
)

// The built-in model and where it came from.
func ExampleDefault() {
	net, err := models.Default()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(net.Layers), "layers,", net.NumParams(), "parameters")
	fmt.Println(net.Meta.Source)
	// Output:
	// 10 layers, 215370 parameters
	// evsnn train --seed 1 --epochs 5 --batch 64 --optimizer adam --lr 0.001 --schedule cosine
}

// The embedded MNIST test set: no download, no data directory.
func ExampleTestSet() {
	set, err := models.TestSet()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(set.N, "images of", set.Shape(), "- first label", set.Labels[0], "-", set.Name, "from", set.Source)
	// Output:
	// 10000 images of [1 28 28] - first label 7 - mnist test from embedded
}
