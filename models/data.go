package models

import (
	"bytes"
	"embed"
	"fmt"
	"strings"
	"sync"

	"github.com/evsnn/evsnn/dataset"
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
func TestSet() (*dataset.Set, error) { return testSet(0) }

// testSet decodes the first n test images (0: all).
func testSet(n int) (*dataset.Set, error) {
	return embeddedSet("mnist test", "mnist/t10k-images-idx3-ubyte.gz", "mnist/t10k-labels-idx1-ubyte.gz", n)
}

// CalibrationSet returns the first CalibrationImages MNIST training images
// and their labels, decoded afresh on every call.
func CalibrationSet() (*dataset.Set, error) { return calibrationSet(0) }

func calibrationSet(n int) (*dataset.Set, error) {
	return embeddedSet("mnist train", "mnist/train1024-images-idx3-ubyte.gz", "mnist/train1024-labels-idx1-ubyte.gz", n)
}

// LoadData is dataset.Load(name, path, split, n) with one difference: MNIST
// without a path comes from the copies built into the binary when they
// hold what is asked (the test split, or at most CalibrationImages training
// images), so that the built-in model runs offline. Anything else is read
// by dataset.Load.
func LoadData(name, path, split string, n int) (*dataset.Set, error) {
	if path == "" && strings.EqualFold(name, "mnist") && n >= 0 {
		var set *dataset.Set
		var err error
		switch {
		case split == dataset.Test:
			set, err = testSet(n)
		case split == dataset.Train && n > 0 && n <= CalibrationImages:
			set, err = calibrationSet(n)
		}
		if err != nil || set != nil {
			return set, err
		}
	}
	return dataset.Load(name, path, split, n)
}

// embeddedSet decodes the first n images of an embedded pair of IDX files
// (0: all of them).
func embeddedSet(name, images, labels string, n int) (*dataset.Set, error) {
	read := func(file string, nd int) ([]int, []byte, error) {
		dims, data, err := unzipped(file)
		if err != nil {
			return nil, nil, fmt.Errorf("embedded %s: %w", file, err)
		}
		if len(dims) != nd {
			return nil, nil, fmt.Errorf("embedded %s: dimensions %v", file, dims)
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
	if n <= 0 || n > idims[0] {
		n = idims[0]
	}
	size := idims[1] * idims[2]
	pixels, lbls = pixels[:n*size], lbls[:n]
	s := &dataset.Set{Name: name, Source: "embedded", Images: make([]float32, len(pixels)), Labels: make([]int, len(lbls)),
		N: n, C: 1, H: idims[1], W: idims[2], Classes: 10, Rows: idims[1], Cols: idims[2]}
	for i, b := range pixels {
		s.Images[i] = dataset.Pixel(b)
	}
	for i, b := range lbls {
		s.Labels[i] = int(b)
	}
	return s, s.Check()
}

// unzipped returns the dimensions and bytes of an embedded IDX file,
// decompressed once per process: a program that loads the data several
// times (the CLI's tests, a sweep over T) pays for the gunzip once. The
// bytes are shared and must not be modified; every Set gets its own
// float32 copy.
func unzipped(file string) ([]int, []byte, error) {
	unzipCache.Lock()
	defer unzipCache.Unlock()
	if f, ok := unzipCache.files[file]; ok {
		return f.dims, f.data, nil
	}
	raw, err := mnistFiles.ReadFile(file)
	if err != nil {
		return nil, nil, err
	}
	dims, data, err := dataset.ReadIDX(bytes.NewReader(raw))
	if err != nil {
		return nil, nil, err
	}
	if unzipCache.files == nil {
		unzipCache.files = map[string]idxFile{}
	}
	unzipCache.files[file] = idxFile{dims, data}
	return dims, data, nil
}

type idxFile struct {
	dims []int
	data []byte
}

var unzipCache struct {
	sync.Mutex
	files map[string]idxFile
}
