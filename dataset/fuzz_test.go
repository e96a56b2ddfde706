package dataset

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// FuzzReadIDX feeds ReadIDX arbitrary bytes. It must never panic; what it
// accepts must be consistent with its dimensions; and gzipping a file must
// not change what ReadIDX makes of it.
func FuzzReadIDX(f *testing.F) {
	images := idx(IDXImages, []uint32{2, 3, 2}, []byte{0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255})
	labels := idx(IDXLabels, []uint32{3}, []byte{7, 2, 1})
	f.Add(images)
	f.Add(labels)
	f.Add(gz(f, images))
	f.Add(gz(f, labels))
	f.Add(idx(IDXImages, []uint32{1 << 10, 1 << 10, 1 << 10}, []byte{1, 2, 3}))
	f.Add([]byte{})
	// One Huffman-only compressor, reset per input: a default gzip.Writer
	// allocates and clears about a megabyte, which would dominate each run.
	// Inputs run one at a time.
	var zbuf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&zbuf, gzip.HuffmanOnly)
	f.Fuzz(func(t *testing.T, file []byte) {
		dims, data, err := ReadIDX(bytes.NewReader(file))
		oneLine(t, err)
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

// FuzzCIFAR feeds arbitrary bytes to the CIFAR-10 and CIFAR-100 record
// readers as a file of that many bytes. They must never panic, and must
// accept exactly the files of whole records whose labels are in range,
// with the pixels and labels those records hold.
func FuzzCIFAR(f *testing.F) {
	f.Add(cifarFile(&cifar10, 0, 2), uint8(0), uint8(1))
	f.Add(cifarFile(&cifar100, 3, 2), uint8(1), uint8(0))
	f.Add(cifarFile(&cifar100, 5, 1), uint8(2), uint8(1))
	f.Add([]byte{10}, uint8(0), uint8(0))
	formats := []*cifarFormat{&cifar10, &cifar100, &cifar100Coarse}
	f.Fuzz(func(t *testing.T, file []byte, which, keep uint8) {
		cf := formats[int(which)%len(formats)]
		count, err := cf.records(int64(len(file)))
		rec := cf.record()
		if (err == nil) != (len(file) > 0 && len(file)%rec == 0) {
			t.Fatalf("%d bytes in records of %d: %v", len(file), rec, err)
		}
		if err != nil {
			// Decode the whole records at its start all the same.
			if count = len(file) / rec; count == 0 {
				return
			}
			file = file[:count*rec]
		}
		want := min(int(keep), count)
		pixels, labels := make([]float32, want*cifarPixels), make([]int, want)
		got, err := cf.decode(bytes.NewReader(file), count, pixels, labels)
		oneLine(t, err)
		valid := true
		for i := range count {
			for k, lim := range cf.labelRange {
				valid = valid && int(file[i*rec+k]) < lim
			}
		}
		if (err == nil) != valid {
			t.Fatalf("labels valid: %v, error: %v", valid, err)
		}
		if err != nil {
			return
		}
		if got != want {
			t.Fatalf("kept %d of %d, want %d", got, count, want)
		}
		nl := len(cf.labelRange)
		for i := range want {
			if labels[i] != int(file[i*rec+cf.use]) {
				t.Fatalf("image %d: label %d, the record has %d", i, labels[i], file[i*rec+cf.use])
			}
			for j := range cifarPixels {
				if pixels[i*cifarPixels+j] != Pixel(file[i*rec+nl+j]) {
					t.Fatalf("image %d, pixel %d", i, j)
				}
			}
		}
	})
}

// oneLine fails if err has more than one line.
func oneLine(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.ContainsAny(err.Error(), "\n\r") {
		t.Fatalf("an error of more than one line: %q", err)
	}
}

// memNPY is an in-memory .npy source.
func memNPY(name string, b []byte, size int64) npySource {
	return npySource{name: name, size: size, open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }}
}

// FuzzNPY feeds arbitrary bytes to the .npy reader as images x and labels
// y. It must never panic; what it accepts must pass Set.Check and hold
// the first n images (all if n is 0) with all their labels; and it must
// decide the same whether it knows the files' sizes or not.
func FuzzNPY(f *testing.F) {
	for _, p := range []string{"mnist5u8", "pair", "v23", "bad"} {
		xs, _ := filepath.Glob(filepath.Join(npyDir, p, "x*.npy"))
		for _, x := range xs {
			y := filepath.Join(filepath.Dir(x), "y"+filepath.Base(x)[1:])
			xb, err1 := os.ReadFile(x)
			yb, err2 := os.ReadFile(y)
			if err1 == nil && err2 == nil {
				f.Add(xb, yb, uint8(0))
			}
		}
	}
	f.Add(npyArray("<f4", []int{2, 1, 1, 1}, f32le(0.5, 1)), npyArray("|i1", []int{2}, []byte{3, 1}), uint8(1))
	f.Add(npyArray(">f4", []int{1, 1, 1}, []byte{0x7f, 0x80, 0, 0}), npyArray("<u8", []int{1, 1}, make([]byte, 8)), uint8(0))
	f.Fuzz(func(t *testing.T, x, y []byte, n uint8) {
		s, err := readXY(memNPY("x.npy", x, int64(len(x))), memNPY("y.npy", y, int64(len(y))), int(n))
		s2, err2 := readXY(memNPY("x.npy", x, -1), memNPY("y.npy", y, -1), int(n))
		oneLine(t, err)
		oneLine(t, err2)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("with sizes: %v; without: %v", err, err2)
		}
		if err != nil {
			if s != nil || s2 != nil {
				t.Fatal("a set with an error")
			}
			return
		}
		if err := s.Check(); err != nil {
			t.Fatal(err)
		}
		if n > 0 && s.N > int(n) || s.N == 0 {
			t.Fatalf("%d images for n = %d", s.N, n)
		}
		if !slices.Equal(s.Images, s2.Images) || !slices.Equal(s.Labels, s2.Labels) {
			t.Fatal("the sets differ")
		}
	})
}

// FuzzNPZ feeds arbitrary bytes to the .npz reader (a zip of .npy files).
// It must never panic, and what it accepts must pass Set.Check.
func FuzzNPZ(f *testing.F) {
	for _, p := range []string{"keras.npz", "mnist5f32.npz", "rgb/test.npz"} {
		if b, err := os.ReadFile(filepath.Join(npyDir, p)); err == nil {
			f.Add(b)
		}
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.CreateHeader(&zip.FileHeader{Name: "x.npy", Method: zip.Store})
	w.Write(npyArray("|u1", []int{1, 1, 2}, []byte{1, 2}))
	w, _ = zw.CreateHeader(&zip.FileHeader{Name: "y.npy", Method: zip.Store})
	w.Write(npyArray("|u1", []int{1}, []byte{3}))
	zw.Close()
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, file []byte) {
		zr, err := zip.NewReader(bytes.NewReader(file), int64(len(file)))
		if err != nil {
			return
		}
		for _, split := range []string{Train, Test} {
			s, err := readNPZ(zr, "f.npz", split, 0, false)
			oneLine(t, err)
			if err != nil {
				if s != nil {
					t.Fatal("a set with an error")
				}
				continue
			}
			if err := s.Check(); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// FuzzParseNormalize: never a panic; what it accepts Normalize accepts.
func FuzzParseNormalize(f *testing.F) {
	for _, s := range []string{"0.1307,0.3081", "0.485,0.456,0.406;0.229,0.224,0.225", "1,0", "nan,1", ";"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		mean, std, err := ParseNormalize(in)
		oneLine(t, err)
		if err != nil {
			return
		}
		if err := checkNormalize(mean, std); err != nil {
			t.Fatalf("accepted %q: %v", in, err)
		}
	})
}
