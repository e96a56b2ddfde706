package dataset

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// idx builds an IDX file with the given magic, dimensions and data.
func idx(magic uint32, dims []uint32, data []byte) []byte {
	out := binary.BigEndian.AppendUint32(nil, magic)
	for _, d := range dims {
		out = binary.BigEndian.AppendUint32(out, d)
	}
	return append(out, data...)
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// testImages returns n images of r×c pixels whose bytes run through 0..255.
func testImages(n, r, c int) []byte {
	px := make([]byte, n*r*c)
	for i := range px {
		px[i] = byte(i*7 + i/13)
	}
	return px
}

// writeSet writes a split's two files to dir.
func writeSet(t testing.TB, dir, prefix string, n, rows, cols int, compress bool) ([]byte, []byte) {
	t.Helper()
	px := testImages(n, rows, cols)
	lb := make([]byte, n)
	for i := range lb {
		lb[i] = byte(i % 10)
	}
	img := idx(IDXImages, []uint32{uint32(n), uint32(rows), uint32(cols)}, px)
	lab := idx(IDXLabels, []uint32{uint32(n)}, lb)
	suffix := ""
	if compress {
		img, lab, suffix = gz(t, img), gz(t, lab), ".gz"
	}
	if err := os.WriteFile(filepath.Join(dir, prefix+"-images-idx3-ubyte"+suffix), img, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, prefix+"-labels-idx1-ubyte"+suffix), lab, 0o644); err != nil {
		t.Fatal(err)
	}
	return px, lb
}

// oneByteReader hands out one byte per Read, as a slow pipe might.
type oneByteReader struct{ r *bytes.Reader }

func (o oneByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

func TestReadIDX(t *testing.T) {
	px := testImages(5, 4, 3)
	images := idx(IDXImages, []uint32{5, 4, 3}, px)
	labels := idx(IDXLabels, []uint32{5}, []byte{7, 2, 1, 0, 4})
	for _, c := range []struct {
		name string
		file []byte
		dims []int
		data []byte
	}{
		{"images", images, []int{5, 4, 3}, px},
		{"images.gz", gz(t, images), []int{5, 4, 3}, px},
		{"labels", labels, []int{5}, []byte{7, 2, 1, 0, 4}},
		{"labels.gz", gz(t, labels), []int{5}, []byte{7, 2, 1, 0, 4}},
		{"empty set", idx(IDXLabels, []uint32{0}, nil), []int{0}, []byte{}},
		{"2-D", idx(0x802, []uint32{2, 2}, []byte{1, 2, 3, 4}), []int{2, 2}, []byte{1, 2, 3, 4}},
		{"multistream gzip", append(gz(t, labels[:6]), gz(t, labels[6:])...), []int{5}, []byte{7, 2, 1, 0, 4}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dims, data, err := ReadIDX(bytes.NewReader(c.file))
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(dims) != fmt.Sprint(c.dims) || !bytes.Equal(data, c.data) {
				t.Fatalf("got %v %v, want %v %v", dims, data, c.dims, c.data)
			}
		})
	}
}

func TestReadIDXShortReads(t *testing.T) {
	px := testImages(3, 28, 28)
	for _, f := range [][]byte{idx(IDXImages, []uint32{3, 28, 28}, px), gz(t, idx(IDXImages, []uint32{3, 28, 28}, px))} {
		dims, data, err := ReadIDX(oneByteReader{bytes.NewReader(f)})
		if err != nil || fmt.Sprint(dims) != "[3 28 28]" || !bytes.Equal(data, px) {
			t.Fatalf("got %v, %d bytes, %v", dims, len(data), err)
		}
	}
}

func TestReadIDXBad(t *testing.T) {
	labels := idx(IDXLabels, []uint32{5}, []byte{7, 2, 1, 0, 4})
	images := idx(IDXImages, []uint32{2, 28, 28}, testImages(2, 28, 28))
	corrupt := gz(t, images)
	corrupt[len(corrupt)/2] ^= 0xff
	badCRC := gz(t, labels)
	badCRC[len(badCRC)-8] ^= 0xff
	gzTrunc := gz(t, images)
	gzTrunc = gzTrunc[:len(gzTrunc)-20]
	for _, c := range []struct {
		name string
		file []byte
		want []string
	}{
		{"empty", nil, []string{"truncated", "magic number"}},
		{"three bytes", []byte{0, 0, 8}, []string{"truncated", "magic number"}},
		{"text", []byte("hello world"), []string{"magic number 0x68656c6c"}},
		{"float data", idx(0x00000d03, []uint32{1, 1, 1}, []byte{0, 0, 0, 0}), []string{"magic number 0x00000d03", "0x00000803"}},
		{"signed bytes", idx(0x00000903, []uint32{1, 1, 1}, []byte{0}), []string{"magic number 0x00000903"}},
		{"no dimensions", idx(0x00000800, nil, nil), []string{"magic number 0x00000800"}},
		{"five dimensions", idx(0x00000805, []uint32{1, 1, 1, 1, 1}, []byte{0}), []string{"magic number 0x00000805"}},
		{"big-endian mistake", []byte{3, 8, 0, 0, 1, 0, 0, 0}, []string{"magic number 0x03080000"}},
		{"truncated dims", idx(IDXImages, []uint32{10000, 28}, nil), []string{"truncated", "dimensions"}},
		{"truncated data", images[:len(images)-1], []string{"truncated", "[2 28 28] declare 1568 bytes", "only 1567"}},
		{"truncated data gz", gz(t, images[:len(images)-100]), []string{"truncated", "only 1468"}},
		{"truncated gzip stream", gzTrunc, []string{"truncated"}},
		{"trailing data", append(bytes.Clone(labels), 9), []string{"goes on after the 5 bytes"}},
		{"trailing data gz", gz(t, append(bytes.Clone(labels), 9)), []string{"goes on after"}},
		{"absurd dims", idx(IDXImages, []uint32{math.MaxUint32, math.MaxUint32, math.MaxUint32}, nil), []string{"declare more than 1073741824 bytes"}},
		{"just over the limit", idx(IDXImages, []uint32{1 << 10, 1 << 10, 1<<10 + 1}, nil), []string{"declare more than"}},
		{"huge but allowed, truncated", idx(IDXImages, []uint32{1 << 10, 1 << 10, 1 << 10}, make([]byte, 100)), []string{"truncated", "declare 1073741824 bytes", "only 100"}},
		{"corrupt gzip", corrupt, []string{"gzip"}},
		{"bad gzip checksum", badCRC, []string{"gzip"}},
		{"gzip magic then junk", []byte{0x1f, 0x8b, 1, 2, 3}, []string{"gzip"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			dims, data, err := ReadIDX(bytes.NewReader(c.file))
			runtime.ReadMemStats(&after)
			if err == nil {
				t.Fatalf("read a bad file: %v, %d bytes", dims, len(data))
			}
			t.Log(err)
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
				t.Errorf("allocated %d bytes for a %d-byte file", alloc, len(c.file))
			}
		})
	}
}
