package models

import (
	"bytes"
	"embed"
	"fmt"

	"github.com/evsnn/evsnn/dataset/mnist"
)

// The MNIST data the demo needs, embedded so that an installed binary works
// anywhere, offline and without a Go toolchain to fetch the GoMNIST module:
// the 10,000 test images as published (the same bytes as GoMNIST's
// data/t10k-*.gz, 1.65 MB) and the first 1,024 training images, the
// calibration set of SPEC §3 (165 KB). models/internal/gendata writes them.
//
//go:embed mnist/t10k-images-idx3-ubyte.gz mnist/t10k-labels-idx1-ubyte.gz
//go:embed mnist/train1024-images-idx3-ubyte.gz mnist/train1024-labels-idx1-ubyte.gz
var mnistFiles embed.FS

// CalibrationImages is the number of training images embedded.
const CalibrationImages = 1024

// TestSet returns the embedded MNIST test split (10,000 images), decoded
// afresh on every call.
func TestSet() (*mnist.Set, error) {
	return embeddedSet("mnist/t10k-images-idx3-ubyte.gz", "mnist/t10k-labels-idx1-ubyte.gz")
}

// CalibrationSet returns the first CalibrationImages MNIST training images
// and their labels, decoded afresh on every call.
func CalibrationSet() (*mnist.Set, error) {
	return embeddedSet("mnist/train1024-images-idx3-ubyte.gz", "mnist/train1024-labels-idx1-ubyte.gz")
}

func embeddedSet(images, labels string) (*mnist.Set, error) {
	read := func(name string, nd int) ([]int, []byte, error) {
		raw, err := mnistFiles.ReadFile(name)
		if err != nil {
			return nil, nil, err
		}
		dims, data, err := mnist.ReadIDX(bytes.NewReader(raw))
		if err != nil {
			return nil, nil, fmt.Errorf("embedded %s: %w", name, err)
		}
		if len(dims) != nd {
			return nil, nil, fmt.Errorf("embedded %s: dimensions %v", name, dims)
		}
		return dims, data, nil
	}
	idims, pixels, err := read(images, 3)
	if err != nil {
		return nil, err
	}
	ldims, lbls, err := read(labels, 1)
	if err != nil {
		return nil, err
	}
	if ldims[0] != idims[0] {
		return nil, fmt.Errorf("embedded MNIST: %d labels for %d images", ldims[0], idims[0])
	}
	s := &mnist.Set{Images: make([]float32, len(pixels)), Labels: make([]int, len(lbls)),
		N: idims[0], Rows: idims[1], Cols: idims[2]}
	for i, b := range pixels {
		s.Images[i] = mnist.Pixel(b)
	}
	for i, b := range lbls {
		s.Labels[i] = int(b)
	}
	return s, nil
}
