package dataset

import (
	"archive/zip"
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// npyDir holds the files numpy wrote (testdata/gen_npy.py).
const npyDir = "testdata/npy"

func TestNPYLayouts(t *testing.T) {
	mnist5 := []int{7, 2, 1, 0, 4}
	for _, c := range []struct {
		path, split string
		n           int
		shape       []int
		labels      []int
		classes     int
		source      string
	}{
		{"mnist5u8", Test, 0, []int{1, 28, 28}, mnist5, 8, "mnist5u8/x_test.npy, testdata/npy/mnist5u8/y_test.npy"},
		{"mnist5u8/x_test.npy", Train, 0, []int{1, 28, 28}, mnist5, 8, "mnist5u8/x_test.npy"},
		{"mnist5u8", Test, 2, []int{1, 28, 28}, mnist5[:2], 8, ""},
		{"mnist5f32.npz", Test, 0, []int{1, 28, 28}, mnist5, 8, "mnist5f32.npz [x, y]"},
		{"mnist5f32.npz", Train, 0, []int{1, 28, 28}, mnist5, 8, "mnist5f32.npz [x, y]"},
		{"keras.npz", Train, 0, []int{1, 28, 28}, mnist5[:3], 8, "keras.npz [x_train, y_train]"},
		{"keras.npz", Test, 0, []int{1, 28, 28}, mnist5, 8, "keras.npz [x_test, y_test]"},
		{"keras.npz", Test, 4, []int{1, 28, 28}, mnist5[:4], 8, ""},
		{"keras.npz", Test, 1000, []int{1, 28, 28}, mnist5, 8, ""},
		{"rgb", Test, 0, []int{3, 2, 5}, []int{3, 0, 2, 1}, 4, "rgb/test.npz [x, y]"},
		{"pair/x.npy", Test, 0, []int{1, 2, 2}, []int{1, 0}, 2, "pair/x.npy, testdata/npy/pair/y.npy"},
		{"v23", Test, 0, []int{1, 28, 28}, mnist5[:2], 8, ""},
	} {
		t.Run(c.path+" "+c.split, func(t *testing.T) {
			s, err := Load("npy", filepath.Join(npyDir, c.path), c.split, c.n)
			if err != nil {
				t.Fatal(err)
			}
			if s.N != len(c.labels) || !slices.Equal(s.Shape(), c.shape) || !slices.Equal(s.Labels, c.labels) || s.Classes != c.classes {
				t.Fatalf("N=%d shape %v labels %v classes %d; want %v %v %d", s.N, s.Shape(), s.Labels, s.Classes, c.shape, c.labels, c.classes)
			}
			if s.Name != "npy "+c.split || !strings.Contains(s.Source, c.source) {
				t.Errorf("Name %q Source %q", s.Name, s.Source)
			}
		})
	}
	// rgb/test.npz holds arange(120)/100 in float32, big-endian.
	s, err := Load("npy", filepath.Join(npyDir, "rgb"), Test, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range s.Images {
		if v != float32(i)/100 {
			t.Fatalf("rgb pixel %d = %v", i, v)
		}
	}
}

// The same images as IDX, as uint8 .npy and as float32 .npz divided by
// numpy give bit-identical pixels.
func TestNPYMatchesIDX(t *testing.T) {
	ref, err := LoadIDX("mnist", "testdata/mnist5", Test, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"mnist5u8", "mnist5f32.npz", "keras.npz"} {
		s, err := Load("npy", filepath.Join(npyDir, path), Test, 0)
		if err != nil {
			t.Fatal(err)
		}
		sameSet(t, path, s, ref)
	}
	// And testdata/mnist5 is the start of the real MNIST test set.
	dir, err := DefaultMNISTDir()
	if err != nil {
		t.Skip(err)
	}
	full, err := LoadIDX("mnist", dir, Test, 5, 10)
	if err != nil {
		t.Fatal(err)
	}
	sameSet(t, "GoMNIST", full, ref)
}

// sameSet fails unless a and b hold bit-identical pixels and equal labels
// and shapes.
func sameSet(t *testing.T, name string, a, b *Set) {
	t.Helper()
	if a.N != b.N || !slices.Equal(a.Shape(), b.Shape()) || !slices.Equal(a.Labels, b.Labels) || len(a.Images) != len(b.Images) {
		t.Fatalf("%s: N=%d %v %v, want N=%d %v %v", name, a.N, a.Shape(), a.Labels, b.N, b.Shape(), b.Labels)
	}
	for i := range a.Images {
		if math.Float32bits(a.Images[i]) != math.Float32bits(b.Images[i]) {
			t.Fatalf("%s: pixel %d = %v (%#x), want %v (%#x)", name, i, a.Images[i], math.Float32bits(a.Images[i]), b.Images[i], math.Float32bits(b.Images[i]))
		}
	}
}

// badNPY lists testdata/npy/bad/x_NAME.npy and what reading it (with its
// labels y_NAME.npy) must say: which file, and what is wrong.
var badNPY = []struct {
	name string
	file string // "x" or "y": the file the error names
	want string
}{
	{"fortran", "x", "images in Fortran order: save numpy.ascontiguousarray(x)"},
	{"float64", "x", "dtype float64: images must be float32 or uint8 (save x.astype(numpy.float32), or uint8 pixels 0..255)"},
	{"nhwc", "x", "images of shape (2, 8, 8, 3) look like [N, H, W, C] (channels last): want [N, C, H, W] (save x.transpose(0, 3, 1, 2))"},
	{"ndim2", "x", "images of shape (2, 9): want 4 dimensions [N, C, H, W], or 3 [N, H, W]"},
	{"count", "x", "has 3 images, testdata/npy/bad/y_count.npy 2 labels"},
	{"negative", "y", "label -1 of image 0 is negative"},
	{"floatlabels", "y", "dtype float32: labels must be integers"},
	{"labels2d", "y", "labels of shape (2, 2): want [N] (or [N, 1])"},
	{"nan", "x", "image 1 has the pixel value NaN (element 16)"},
	{"inf", "x", "image 0 has the pixel value +Inf (element 0)"},
	{"bool", "x", "dtype bool: images must be float32 or uint8"},
	{"empty", "x", "images of shape (0, 1, 2, 2): no images"},
}

func TestNPYBad(t *testing.T) {
	for _, c := range badNPY {
		t.Run(c.name, func(t *testing.T) {
			x := filepath.Join(npyDir, "bad", "x_"+c.name+".npy")
			_, err := Load("npy", x, Test, 0)
			wantErr(t, err, "npy: "+filepath.Join(npyDir, "bad", c.file+"_"+c.name+".npy"), c.want)
		})
	}
}

func TestNPYFilesBad(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(npyDir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	x5, y5, keras := read("mnist5u8/x_test.npy"), read("mnist5u8/y_test.npy"), read("keras.npz")
	zipOf := func(entries ...string) []byte { // name, contents, name, contents, ...
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for i := 0; i < len(entries); i += 2 {
			w, _ := zw.Create(entries[i])
			w.Write([]byte(entries[i+1]))
		}
		zw.Close()
		return buf.Bytes()
	}
	for _, c := range []struct {
		name  string
		files map[string][]byte
		path  string // --data, relative to the directory
		want  []string
	}{
		{"npz and npy", map[string][]byte{"test.npz": keras, "x_test.npy": x5, "y_test.npy": y5}, ".", []string{"has both test.npz and x_test.npy/y_test.npy"}},
		{"no labels", map[string][]byte{"x_test.npy": x5}, ".", []string{"has x_test.npy but not its labels y_test.npy"}},
		{"nothing", map[string][]byte{"x_train.npy": x5, "y_train.npy": y5}, ".", []string{"has neither test.npz nor x_test.npy and y_test.npy"}},
		{"not x", map[string][]byte{"images.npy": x5}, "images.npy", []string{"images.npy: the images file's name must start with x"}},
		{"no y beside x", map[string][]byte{"x_val.npy": x5, "y_test.npy": y5}, "x_val.npy", []string{"x_val.npy has no labels file", "y_val.npy"}},
		{"missing", nil, "x.npy", []string{"npy: stat ", "x.npy"}},
		{"other file", map[string][]byte{"data.bin": x5}, "data.bin", []string{"data.bin is neither a directory nor a .npz or .npy file"}},
		{"x truncated", map[string][]byte{"x.npy": x5[:len(x5)-1], "y.npy": y5}, "x.npy", []string{"x.npy: truncated: shape (5, 28, 28) of uint8 needs 3920 bytes of data, the file has 3919"}},
		{"x header truncated", map[string][]byte{"x.npy": x5[:50], "y.npy": y5}, "x.npy", []string{"x.npy: truncated: the header needs 128 bytes, the file has 50"}},
		{"y truncated", map[string][]byte{"x.npy": x5, "y.npy": y5[:len(y5)-3]}, "x.npy", []string{"y.npy: truncated: shape (5,) of int64 needs 40 bytes of data, the file has 37"}},
		{"x too long", map[string][]byte{"x.npy": append(slices.Clone(x5), 0), "y.npy": y5}, "x.npy", []string{"x.npy: the file goes on after the 3920 bytes"}},
		{"npz truncated", map[string][]byte{"k.npz": keras[:len(keras)-10]}, "k.npz", []string{"k.npz: not a .npz (zip) file"}},
		{"npz of text", map[string][]byte{"k.npz": []byte("hello")}, "k.npz", []string{"k.npz: not a .npz (zip) file"}},
		{"npz without x", map[string][]byte{"k.npz": zipOf("a.npy", "", "y.npy", "", "notes.txt", "")}, "k.npz", []string{"k.npz: no arrays x_test and y_test, or x and y (it has a, y)"}},
		{"split npz with split keys", map[string][]byte{"test.npz": keras}, ".", []string{"test.npz: no arrays x and y (it has x_test, x_train, y_test, y_train)"}},
		{"npz entry not npy", map[string][]byte{"k.npz": zipOf("x.npy", "not numpy", "y.npy", string(y5))}, "k.npz", []string{`k.npz: x.npy: not a .npy file: it starts with "not nu"`}},
		{"npz labels not npy", map[string][]byte{"k.npz": zipOf("x.npy", string(x5), "y.npy", "PK not numpy")}, "k.npz", []string{"k.npz: y.npy: not a .npy file"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, b := range c.files {
				writeFile(t, dir, name, b)
			}
			_, err := Load("npy", filepath.Join(dir, c.path), Test, 0)
			wantErr(t, err, "npy: ", c.want...)
		})
	}
	if _, err := Load("npy", "", Test, 0); err == nil || !strings.Contains(err.Error(), "pass --data PATH") {
		t.Errorf("no path: %v", err)
	}
}

// A .npz whose entries lie about their sizes, or whose data is corrupt.
func TestNPZCorrupt(t *testing.T) {
	x := npyArray("|u1", []int{2, 1, 2, 2}, []byte{0, 1, 2, 3, 4, 5, 6, 7})
	y := npyArray("|u1", []int{2}, []byte{1, 0})
	raw := func(method uint16, xSize uint64, data []byte) []byte { // a CRC that does not match
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, err := zw.CreateRaw(&zip.FileHeader{Name: "x.npy", Method: method, CRC32: 12345, CompressedSize64: uint64(len(data)), UncompressedSize64: xSize})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
		yw, _ := zw.Create("y.npy")
		yw.Write(y)
		zw.Close()
		return buf.Bytes()
	}
	var deflated bytes.Buffer
	zw := zip.NewWriter(&deflated)
	w, _ := zw.Create("x.npy")
	w.Write(x)
	w, _ = zw.Create("y.npy")
	w.Write(y)
	zw.Close()
	flipped := slices.Clone(deflated.Bytes())
	flipped[len(npyMagic)+40] ^= 0x55 // inside x.npy's compressed data

	for _, c := range []struct {
		name string
		file []byte
		want string
	}{
		{"stored, declares 2^40 bytes", raw(zip.Store, 1<<40, x), "x.npy: declares 1099511627776 bytes from 136 compressed ones: refusing"},
		{"deflated, declares 2^40 bytes", raw(zip.Deflate, 1<<40, x), "declares 1099511627776 bytes from 136"},
		{"declares fewer bytes", raw(zip.Store, uint64(len(x)-1), x), "x.npy: truncated"},
		{"declares more bytes", raw(zip.Store, uint64(len(x)+1), append(slices.Clone(x), 0)), "x.npy: the file goes on after"},
		{"corrupt data", flipped, "k.npz: x.npy"},
		{"wrong checksum", raw(zip.Store, uint64(len(x)), x), "x.npy: reading the end of the file: zip: checksum error"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := writeFile(t, t.TempDir(), "k.npz", c.file)
			_, err := Load("npy", p, Test, 0)
			wantErr(t, err, "npy: "+p, c.want)
			t.Log(err)
		})
	}
	// The deflated original is fine.
	p := writeFile(t, t.TempDir(), "k.npz", deflated.Bytes())
	if s, err := Load("npy", p, Test, 0); err != nil || s.N != 2 || s.Images[7] != Pixel(7) {
		t.Fatalf("%v", err)
	}
}
