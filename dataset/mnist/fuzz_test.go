package mnist

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"testing"
)

// FuzzReadIDX feeds ReadIDX arbitrary bytes. It must never panic; what it
// accepts must be consistent with its dimensions; and gzipping a file must
// not change what ReadIDX makes of it.
func FuzzReadIDX(f *testing.F) {
	images := idx(MagicImages, []uint32{2, 3, 2}, []byte{0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255})
	labels := idx(MagicLabels, []uint32{3}, []byte{7, 2, 1})
	f.Add(images)
	f.Add(labels)
	f.Add(gz(f, images))
	f.Add(gz(f, labels))
	f.Add(idx(MagicImages, []uint32{1 << 10, 1 << 10, 1 << 10}, []byte{1, 2, 3}))
	f.Add([]byte{})
	// One Huffman-only compressor, reset per input: a default gzip.Writer
	// allocates and clears about a megabyte, which would dominate each run.
	// Inputs run one at a time.
	var zbuf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&zbuf, gzip.HuffmanOnly)
	f.Fuzz(func(t *testing.T, file []byte) {
		dims, data, err := ReadIDX(bytes.NewReader(file))
		if err != nil {
			if dims != nil || data != nil {
				t.Fatal("results with an error")
			}
		} else {
			if len(dims) < 1 || len(dims) > maxIDXDims {
				t.Fatalf("%d dimensions", len(dims))
			}
			n := 1
			for _, d := range dims {
				n *= d
			}
			if n != len(data) || n > MaxIDXBytes {
				t.Fatalf("dims %v but %d bytes", dims, len(data))
			}
		}
		if len(file) >= 2 && file[0] == 0x1f && file[1] == 0x8b {
			return
		}
		// Compare with the gzipped file for every accepted input and one
		// in eight others: a gzip reader costs ~40 KB, and most inputs are
		// refused within a few bytes.
		if err != nil && len(file)%8 != 0 {
			return
		}
		zbuf.Reset()
		zw.Reset(&zbuf)
		zw.Write(file)
		zw.Close()
		dims2, data2, err2 := ReadIDX(bytes.NewReader(zbuf.Bytes()))
		if (err == nil) != (err2 == nil) || fmt.Sprint(dims) != fmt.Sprint(dims2) || !bytes.Equal(data, data2) {
			t.Fatalf("plain: %v %d bytes %v; gzipped: %v %d bytes %v", dims, len(data), err, dims2, len(data2), err2)
		}
	})
}
