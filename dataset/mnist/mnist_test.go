package mnist

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
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

func TestPixel(t *testing.T) {
	if Pixel(0) != 0 || Pixel(255) != 1 {
		t.Fatalf("Pixel(0) = %v, Pixel(255) = %v", Pixel(0), Pixel(255))
	}
	for k := 0; k < 256; k++ {
		// A correctly rounded float32 division equals the float64 quotient
		// rounded to float32 (double rounding is harmless for division).
		if want := float32(float64(k) / 255); math.Float32bits(Pixel(byte(k))) != math.Float32bits(want) {
			t.Errorf("Pixel(%d) = %v, want %v", k, Pixel(byte(k)), want)
		}
	}
}

// writeSet writes a split's two files to dir.
func writeSet(t testing.TB, dir, prefix string, n, rows, cols int, compress bool) ([]byte, []byte) {
	t.Helper()
	px := testImages(n, rows, cols)
	lb := make([]byte, n)
	for i := range lb {
		lb[i] = byte(i % 10)
	}
	img := idx(MagicImages, []uint32{uint32(n), uint32(rows), uint32(cols)}, px)
	lab := idx(MagicLabels, []uint32{uint32(n)}, lb)
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

func checkSet(t *testing.T, s *Set, px, lb []byte, n, rows, cols int) {
	t.Helper()
	if s.N != n || s.Rows != rows || s.Cols != cols || len(s.Images) != n*rows*cols || len(s.Labels) != n {
		t.Fatalf("set N=%d %dx%d with %d pixels and %d labels, want N=%d %dx%d", s.N, s.Rows, s.Cols, len(s.Images), len(s.Labels), n, rows, cols)
	}
	for i, v := range s.Images {
		if v != float32(px[i])/255 {
			t.Fatalf("pixel %d = %v, want %d/255", i, v, px[i])
		}
	}
	for i, l := range s.Labels {
		if l != int(lb[i]) {
			t.Fatalf("label %d = %d, want %d", i, l, lb[i])
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	trPx, trLb := writeSet(t, dir, "train", 30, 5, 4, true)
	tePx, teLb := writeSet(t, dir, "t10k", 12, 5, 4, false)

	tr, err := Load(dir, "train")
	if err != nil {
		t.Fatal(err)
	}
	checkSet(t, tr, trPx, trLb, 30, 5, 4)
	te, err := LoadDefault(dir, "test")
	if err != nil {
		t.Fatal(err)
	}
	checkSet(t, te, tePx, teLb, 12, 5, 4)

	few, err := LoadN(dir, "train", 7)
	if err != nil {
		t.Fatal(err)
	}
	checkSet(t, few, trPx[:7*20], trLb[:7], 7, 5, 4)
	all, err := LoadDefaultN(dir, "test", 1000)
	if err != nil {
		t.Fatal(err)
	}
	checkSet(t, all, tePx, teLb, 12, 5, 4)

	// Image and Slice share memory and clip capacity.
	img := tr.Image(3)
	if len(img) != 20 || cap(img) != 20 || &img[0] != &tr.Images[60] {
		t.Fatalf("Image(3): len %d cap %d", len(img), cap(img))
	}
	sl := tr.Slice(10, 5)
	checkSet(t, sl, trPx[10*20:15*20], trLb[10:15], 5, 5, 4)
	if &sl.Image(0)[0] != &tr.Image(10)[0] || cap(sl.Images) != 100 || cap(sl.Labels) != 5 {
		t.Fatal("Slice does not share memory or leaks capacity")
	}
	if got := tr.Slice(25, 1024); got.N != 5 {
		t.Fatalf("Slice(25, 1024) of 30: N = %d, want 5", got.N)
	}
	if got := tr.Slice(30, 1); got.N != 0 || len(got.Images) != 0 {
		t.Fatalf("Slice(30, 1) of 30: N = %d", got.N)
	}
	for _, f := range []func(){func() { tr.Slice(31, 1) }, func() { tr.Slice(-1, 1) }, func() { tr.Slice(0, -1) }, func() { tr.Image(30) }, func() { tr.Image(-1) }} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("out-of-range Slice or Image did not panic")
				}
			}()
			f()
		}()
	}

	// Plain wins over .gz when both exist.
	if err := os.WriteFile(filepath.Join(dir, "train-labels-idx1-ubyte"), idx(MagicLabels, []uint32{30}, make([]byte, 30)), 0o644); err != nil {
		t.Fatal(err)
	}
	tr2, err := Load(dir, "train")
	if err != nil || tr2.Labels[1] != 0 {
		t.Fatalf("plain file not preferred: %v", err)
	}
}

func TestLoadBad(t *testing.T) {
	dir := t.TempDir()
	writeSet(t, dir, "train", 30, 5, 4, true)
	writeSet(t, dir, "t10k", 12, 5, 4, false)
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	expect := func(split string, want ...string) {
		t.Helper()
		_, err := Load(dir, split)
		if err == nil {
			t.Fatalf("%s: loaded", split)
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not mention %q", err, w)
			}
		}
	}
	expect("validation", `split "validation"`)
	if _, err := Load(t.TempDir(), "test"); err == nil || !strings.Contains(err.Error(), "neither t10k-images-idx3-ubyte nor t10k-images-idx3-ubyte.gz") {
		t.Errorf("empty dir: %v", err)
	}
	write("t10k-labels-idx1-ubyte", idx(MagicLabels, []uint32{11}, make([]byte, 11)))
	expect("test", "11 labels for the 12 images")
	write("t10k-labels-idx1-ubyte", idx(MagicImages, []uint32{12, 1, 1}, make([]byte, 12)))
	expect("test", "t10k-labels-idx1-ubyte", "labels need 1")
	write("t10k-labels-idx1-ubyte", idx(MagicLabels, []uint32{12}, make([]byte, 12)))
	write("t10k-images-idx3-ubyte", idx(MagicLabels, []uint32{12}, make([]byte, 12)))
	expect("test", "t10k-images-idx3-ubyte", "images need 3")
	write("t10k-images-idx3-ubyte", idx(MagicImages, []uint32{0, 28, 28}, nil))
	expect("test", "no images")
	write("t10k-images-idx3-ubyte", idx(MagicImages, []uint32{12, 28, 28}, make([]byte, 100)))
	expect("test", "t10k-images-idx3-ubyte", "truncated")
}

func TestRealTestSet(t *testing.T) {
	dir, err := DefaultDir()
	if err != nil {
		t.Skip(err)
	}
	s, err := Load(dir, "test")
	if err != nil {
		t.Fatal(err)
	}
	if s.N != 10000 || s.Rows != 28 || s.Cols != 28 {
		t.Fatalf("test set: N=%d %dx%d", s.N, s.Rows, s.Cols)
	}
	want := []int{7, 2, 1, 0, 4, 1, 4, 9, 5, 9, 0, 6, 9, 0, 1, 5}
	if fmt.Sprint(s.Labels[:16]) != fmt.Sprint(want) {
		t.Fatalf("first labels %v, want %v", s.Labels[:16], want)
	}
	f, err := os.Open(filepath.Join(dir, "t10k-images-idx3-ubyte.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, raw, err := ReadIDX(f)
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := float32(1), float32(0)
	for i, v := range s.Images {
		if v != float32(float64(raw[i])/255) {
			t.Fatalf("pixel %d = %v, want %d/255", i, v, raw[i])
		}
		lo, hi = min(lo, v), max(hi, v)
	}
	if lo != 0 || hi != 1 {
		t.Errorf("pixels span [%v, %v], want [0, 1]", lo, hi)
	}

	cal, err := LoadDefaultN("", "train", 1024)
	if err != nil {
		t.Fatal(err)
	}
	if cal.N != 1024 || cal.Rows != 28 || cal.Cols != 28 || cal.Labels[0] != 5 {
		t.Fatalf("calibration set: N=%d %dx%d, first label %d", cal.N, cal.Rows, cal.Cols, cal.Labels[0])
	}
}

func TestLoadDefaultWithoutGo(t *testing.T) {
	empty := t.TempDir()
	t.Setenv("PATH", empty) // no go command
	t.Setenv("GOMODCACHE", empty)
	t.Setenv("GOPATH", empty)
	t.Setenv("HOME", empty)
	if _, err := DefaultDir(); err == nil || !strings.Contains(err.Error(), "go mod download "+DataModule+"@"+DataVersion) {
		t.Errorf("DefaultDir: %v", err)
	}
	if _, err := LoadDefault("", "test"); err == nil || !strings.Contains(err.Error(), "--data DIR") {
		t.Errorf("LoadDefault: %v", err)
	}
}
