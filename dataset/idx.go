package dataset

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// IDX magic numbers of the two MNIST file kinds.
const (
	IDXLabels = 0x00000801 // unsigned bytes, 1 dimension [N]
	IDXImages = 0x00000803 // unsigned bytes, 3 dimensions [N, rows, cols]
)

// MaxIDXBytes bounds the data an IDX file may declare (1 GiB; MNIST's
// training images are 47 MB). ReadIDX refuses more before reading any.
const MaxIDXBytes = 1 << 30

// maxIDXDims is the most dimensions ReadIDX accepts.
const maxIDXDims = 4

// firstChunk is how much ReadIDX allocates before any data has arrived;
// the buffer then grows with the data actually read, so a short file that
// declares a huge size costs no more than its length.
const firstChunk = 64 << 10

// ReadIDX reads an IDX file of unsigned bytes (magic 0x000008nn, 1 ≤ nn ≤ 4
// dimensions; MNIST uses 0x00000803 for images and 0x00000801 for labels),
// gzipped or not, and returns its dimensions and its bytes in row-major
// order. It refuses other magics, declared sizes above MaxIDXBytes, and
// files shorter or longer than their dimensions say.
func ReadIDX(r io.Reader) (dims []int, data []byte, err error) {
	br := bufio.NewReader(r)
	var src io.Reader = br
	gzipped := false
	if b, _ := br.Peek(2); len(b) == 2 && b[0] == 0x1f && b[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("idx: gzip: %w", err)
		}
		defer zr.Close()
		src, gzipped = zr, true
	}
	readErr := func(what string, err error) error {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("idx: truncated file: it ends inside the %s", what)
		}
		if gzipped {
			return fmt.Errorf("idx: gzip: reading the %s: %w", what, err)
		}
		return fmt.Errorf("idx: reading the %s: %w", what, err)
	}

	var magic [4]byte
	if _, err := io.ReadFull(src, magic[:]); err != nil {
		return nil, nil, readErr("magic number", err)
	}
	m := binary.BigEndian.Uint32(magic[:])
	nd := int(magic[3])
	if magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08 || nd < 1 || nd > maxIDXDims {
		return nil, nil, fmt.Errorf("idx: magic number 0x%08x is not an IDX file of unsigned bytes with 1 to %d dimensions (MNIST images are 0x%08x, labels 0x%08x)",
			m, maxIDXDims, IDXImages, IDXLabels)
	}
	hdr := make([]byte, 4*nd)
	if _, err := io.ReadFull(src, hdr); err != nil {
		return nil, nil, readErr("dimensions", err)
	}
	dims = make([]int, nd)
	total := 1
	for i := range dims {
		d := int(binary.BigEndian.Uint32(hdr[4*i:]))
		dims[i] = d
		if d != 0 && total > MaxIDXBytes/d {
			return nil, nil, fmt.Errorf("idx: dimensions %v declare more than %d bytes: refusing", dimsSoFar(hdr, nd), MaxIDXBytes)
		}
		total *= d
	}

	data = make([]byte, 0, min(total, firstChunk))
	for len(data) < total {
		if len(data) == cap(data) {
			grown := make([]byte, len(data), min(total, 2*cap(data)))
			copy(grown, data)
			data = grown
		}
		n, err := io.ReadFull(src, data[len(data):cap(data)])
		data = data[:len(data)+n]
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, nil, fmt.Errorf("idx: truncated file: dimensions %v declare %d bytes of data, the file has only %d", dims, total, len(data))
			}
			return nil, nil, readErr("data", err)
		}
	}
	// Nothing may follow the data. Reading on to the end also makes gzip
	// check its CRC and length.
	var one [1]byte
	if n, err := io.ReadFull(src, one[:]); n > 0 {
		return nil, nil, fmt.Errorf("idx: the file goes on after the %d bytes its dimensions %v declare", total, dims)
	} else if err != io.EOF {
		return nil, nil, readErr("end of the file", err)
	}
	return dims, data, nil
}

func dimsSoFar(hdr []byte, nd int) []uint32 {
	out := make([]uint32, nd)
	for i := range out {
		out[i] = binary.BigEndian.Uint32(hdr[4*i:])
	}
	return out
}

// IDXFileNames gives the IDX base names (without .gz) of a split, as MNIST,
// Fashion-MNIST and KMNIST name them.
func IDXFileNames(split string) (images, labels string, err error) {
	switch split {
	case Train:
		return "train-images-idx3-ubyte", "train-labels-idx1-ubyte", nil
	case Test:
		return "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", nil
	}
	return "", "", fmt.Errorf("split %q: want %q or %q", split, Train, Test)
}

// findIDX returns dir/base if it exists, else dir/base.gz if that does.
func findIDX(dir, base string) (string, error) {
	for _, name := range []string{base, base + ".gz"} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s has neither %s nor %s.gz", dir, base, base)
}

// IDXComplete reports an error unless dir holds the four IDX files of
// both splits.
func IDXComplete(dir string) error {
	for _, split := range []string{Train, Test} {
		img, lbl, _ := IDXFileNames(split)
		for _, base := range []string{img, lbl} {
			if _, err := findIDX(dir, base); err != nil {
				return err
			}
		}
	}
	return nil
}

func readIDXFile(path string) ([]int, []byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	dims, data, err := ReadIDX(f)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return dims, data, nil
}

// LoadIDX reads split "train" or "test" of an MNIST-like set from dir,
// which holds its two IDX files (see IDXFileNames; plain or .gz, the plain
// one is used if both exist), keeping the first n images (all of them if
// n ≤ 0 or n ≥ the split's size). Images are [1, rows, cols] with pixels
// Pixel(b). name ("mnist", "fashion-mnist", ...) starts every error and the
// Set's Name. With classes > 0 every label must be below it; with 0,
// Classes is the largest label + 1.
//
// The files are read and checked whole; only the float32 conversion is
// limited to n images, which saves memory (60,000 training images are
// 188 MB as float32, 1,024 calibration images 3 MB).
func LoadIDX(name, dir, split string, n, classes int) (*Set, error) {
	imgBase, lblBase, err := IDXFileNames(split)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	imgPath, err := findIDX(dir, imgBase)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	lblPath, err := findIDX(dir, lblBase)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	idims, pixels, err := readIDXFile(imgPath)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(idims) != 3 {
		return nil, fmt.Errorf("%s: %s: dimensions %v: images need 3 (magic 0x%08x)", name, imgPath, idims, IDXImages)
	}
	ldims, labels, err := readIDXFile(lblPath)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(ldims) != 1 {
		return nil, fmt.Errorf("%s: %s: dimensions %v: labels need 1 (magic 0x%08x)", name, lblPath, ldims, IDXLabels)
	}
	count, rows, cols := idims[0], idims[1], idims[2]
	if count == 0 || rows == 0 || cols == 0 {
		return nil, fmt.Errorf("%s: %s: dimensions %v: no images", name, imgPath, idims)
	}
	if ldims[0] != count {
		return nil, fmt.Errorf("%s: %s has %d labels for the %d images of %s", name, lblPath, ldims[0], count, imgPath)
	}
	hi := 0
	for i, b := range labels {
		if classes > 0 && int(b) >= classes {
			return nil, fmt.Errorf("%s: %s: label %d of image %d is outside [0, %d)", name, lblPath, b, i, classes)
		}
		hi = max(hi, int(b))
	}
	if classes <= 0 {
		classes = hi + 1
	}
	if n <= 0 || n > count {
		n = count
	}
	s := newSet(name+" "+split, dir, n, 1, rows, cols, classes)
	bytesToPixels(s.Images, pixels)
	for i, b := range labels[:n] {
		s.Labels[i] = int(b)
	}
	return s, nil
}
