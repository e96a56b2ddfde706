package dataset

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// NumPy arrays of any plain dtype, for readers of other files NumPy
// writes (package format/scipy reads scipy.sparse.save_npz matrices
// with them). They go through the same strict .npy reader as the image
// sets: a plain dtype, a bounded header and shape, data that fills the
// rest of the file exactly, and a .npz entry that cannot declare more
// bytes than its compressed data could hold.

// NPYArray is one whole array of a .npy file or a .npz entry.
type NPYArray struct {
	// DType is numpy's name of the element type ("float32", "int64",
	// "bool"), or the dtype string as written for other kinds ("|S3").
	DType string
	// Shape is the array's shape (empty for a 0-d array).
	Shape []int
	// Fortran is the header's fortran_order.
	Fortran bool
	h       *npyHeader
	data    []byte
}

// Len is the number of elements.
func (a *NPYArray) Len() int { return a.h.count }

// ReadNPY reads one whole .npy array from r, which holds size bytes in all
// (-1 if unknown; if known, the data must fill exactly the rest), refusing
// more than maxElements elements before anything is allocated for them.
func ReadNPY(r io.Reader, size int64, maxElements int) (*NPYArray, error) {
	h, err := readNPYHeader(r, size)
	if err != nil {
		return nil, err
	}
	if h.count > maxElements {
		return nil, fmt.Errorf("shape %s of %s: %d elements, more than the %d allowed here", shapeText(h.shape), h.dtypeName(), h.count, maxElements)
	}
	a := &NPYArray{DType: h.dtypeName(), Shape: h.shape, Fortran: h.fortran, h: h}
	if h.kind != 'f' && h.kind != 'i' && h.kind != 'u' && h.kind != 'b' {
		a.DType = h.descr
	}
	// Grow with the data actually read, not the declared size: a zip entry
	// can declare more bytes than its file holds.
	a.data = make([]byte, 0, min(h.dataLen, 1<<20))
	err = h.readData(r, func(_ int, chunk []byte) bool {
		a.data = append(a.data, chunk...)
		return true
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// Float64s returns the elements of a float32 or float64 array, in the
// file's order, refusing NaN and infinities (naming the element).
func (a *NPYArray) Float64s() ([]float64, error) {
	h := a.h
	if h.kind != 'f' || (h.itemSize != 4 && h.itemSize != 8) {
		return nil, fmt.Errorf("dtype %s: want float32 or float64", a.DType)
	}
	out := make([]float64, h.count)
	for i := range out {
		if h.itemSize == 4 {
			out[i] = float64(math.Float32frombits(h.order.Uint32(a.data[4*i:])))
		} else {
			out[i] = math.Float64frombits(h.order.Uint64(a.data[8*i:]))
		}
		if math.IsNaN(out[i]) || math.IsInf(out[i], 0) {
			return nil, fmt.Errorf("element %d is %v", i, out[i])
		}
	}
	return out, nil
}

// Int64s returns the elements of an integer array (int8 … int64, uint8 …
// uint64) or a bool array (0 and 1), in the file's order, refusing uint64
// values above the largest int64.
func (a *NPYArray) Int64s() ([]int64, error) {
	h := a.h
	sizeOK := h.itemSize == 1 || h.itemSize == 2 || h.itemSize == 4 || h.itemSize == 8
	if !sizeOK || (h.kind != 'i' && h.kind != 'u' && !(h.kind == 'b' && h.itemSize == 1)) {
		return nil, fmt.Errorf("dtype %s: want integers", a.DType)
	}
	out := make([]int64, h.count)
	for i := range out {
		b := a.data[i*h.itemSize:]
		var u uint64
		switch h.itemSize {
		case 1:
			u = uint64(b[0])
		case 2:
			u = uint64(h.order.Uint16(b))
		case 4:
			u = uint64(h.order.Uint32(b))
		case 8:
			u = h.order.Uint64(b)
		}
		if h.kind == 'b' && u > 1 {
			return nil, fmt.Errorf("element %d of a bool array is %d", i, u)
		}
		if h.kind == 'i' {
			shift := 64 - 8*h.itemSize
			out[i] = int64(u<<shift) >> shift
			continue
		}
		if u > math.MaxInt64 {
			return nil, fmt.Errorf("element %d is %d, above the largest int64", i, u)
		}
		out[i] = int64(u)
	}
	return out, nil
}

// Bytes returns the element of a 0-d array of numpy bytes (dtype |Sn, as
// numpy.array(b"csr") is), without the NULs numpy pads it with.
func (a *NPYArray) Bytes() ([]byte, error) {
	if a.h.kind != 'S' || len(a.Shape) != 0 {
		return nil, fmt.Errorf("%s of shape %s: want one bytes value (a 0-d |S array)", a.DType, shapeText(a.Shape))
	}
	return bytes.TrimRight(a.data, "\x00"), nil
}

// NPZ is an open .npz archive (numpy.savez, numpy.savez_compressed): its
// arrays by name, each read on demand by Array.
type NPZ struct {
	name    string // for errors
	zr      *zip.Reader
	closer  io.Closer
	entries map[string]*zip.File
	names   []string
}

// OpenNPZ opens the .npz file at path. Close it when done.
func OpenNPZ(path string) (*NPZ, error) {
	rc, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("%s: not a .npz (zip) file: %v", path, err)
	}
	z, err := newNPZ(&rc.Reader, path)
	if err != nil {
		rc.Close()
		return nil, err
	}
	z.closer = rc
	return z, nil
}

// NewNPZ reads a .npz archive of size bytes from r; name is what errors
// call it.
func NewNPZ(r io.ReaderAt, size int64, name string) (*NPZ, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("%s: not a .npz (zip) file: %v", name, err)
	}
	return newNPZ(zr, name)
}

func newNPZ(zr *zip.Reader, name string) (*NPZ, error) {
	z := &NPZ{name: name, zr: zr, entries: map[string]*zip.File{}}
	for _, f := range zr.File {
		key, ok := strings.CutSuffix(f.Name, ".npy")
		if !ok {
			return nil, fmt.Errorf("%s: entry %s is not a .npy array", name, printable(f.Name))
		}
		if z.entries[key] != nil {
			return nil, fmt.Errorf("%s: array %s twice", name, printable(key))
		}
		z.entries[key] = f
		z.names = append(z.names, key)
	}
	slices.Sort(z.names)
	return z, nil
}

// Names lists the arrays of the archive, sorted (a name may hold any
// character: print it with %q).
func (z *NPZ) Names() []string { return slices.Clone(z.names) }

// Has reports whether the archive holds an array of that name.
func (z *NPZ) Has(name string) bool { return z.entries[name] != nil }

// Array reads array name, refusing more than maxElements elements. Its
// errors name the archive and the array.
func (z *NPZ) Array(name string, maxElements int) (*NPYArray, error) {
	f := z.entries[name]
	if f == nil {
		return nil, fmt.Errorf("%s: no array %s (it has %s)", z.name, printable(name), listOr(z.printableNames(), "none"))
	}
	src := npzEntry(z.name, f)
	r, err := src.open()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", src.name, err)
	}
	defer r.Close()
	a, err := ReadNPY(r, src.size, maxElements)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", src.name, err)
	}
	return a, nil
}

func (z *NPZ) printableNames() []string {
	out := make([]string, len(z.names))
	for i, n := range z.names {
		out[i] = printable(n)
	}
	return out
}

// Close closes the file OpenNPZ opened (nothing for NewNPZ).
func (z *NPZ) Close() error {
	if z.closer == nil {
		return nil
	}
	return z.closer.Close()
}
