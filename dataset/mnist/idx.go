package mnist

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// IDX magic numbers of the two MNIST file kinds.
const (
	MagicLabels = 0x00000801 // unsigned bytes, 1 dimension [N]
	MagicImages = 0x00000803 // unsigned bytes, 3 dimensions [N, rows, cols]
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
			m, maxIDXDims, MagicImages, MagicLabels)
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
