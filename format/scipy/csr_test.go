package scipy

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/network"
)

// small is the matrix of testdata/small_csr*.npz (see make_small.py) as
// fan-out lists: input j's outputs and weights.
var small = &network.SparseLinear{In: 6, Out: 3,
	Ptr:     []int32{0, 1, 2, 3, 4, 5, 5},
	Targets: []int32{2, 0, 1, 0, 2},
	Weights: []float32{2, 1.5, 0, -0.25, -3},
	Bias:    make([]float32, 3)}

// TestCheckedIn reads the files scipy wrote (make_small.py): deflated
// float32, and uncompressed float64 with unsorted columns; both give the
// same lists, the explicit zero included and the empty column empty.
func TestCheckedIn(t *testing.T) {
	for _, name := range []string{"small_csr.npz", "small_csr_f64_unsorted.npz"} {
		got, err := ReadCSR(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		same(t, name, got, small)
	}
}

func same(t *testing.T, what string, got, want *network.SparseLinear) {
	t.Helper()
	if got.In != want.In || got.Out != want.Out || !slices.Equal(got.Ptr, want.Ptr) || !slices.Equal(got.Targets, want.Targets) ||
		!slices.Equal(got.Weights, want.Weights) || !slices.Equal(got.Bias, want.Bias) {
		t.Fatalf("%s: read %+v, want %+v", what, got, want)
	}
}

// npy is a version 1.0 .npy file as numpy writes it.
func npy(descr string, shape []int, data []byte) []byte {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = fmt.Sprint(d)
	}
	sh := "(" + strings.Join(dims, ", ")
	if len(shape) == 1 {
		sh += ","
	}
	sh += ")"
	hdr := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, sh)
	for (10+len(hdr)+1)%64 != 0 {
		hdr += " "
	}
	hdr += "\n"
	out := append([]byte("\x93NUMPY\x01\x00"), byte(len(hdr)), byte(len(hdr)>>8))
	return append(append(out, hdr...), data...)
}

func i32s(v ...int32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, uint32(x))
	}
	return b
}

func i64s(v ...int64) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, uint64(x))
	}
	return b
}

func f32s(v ...float32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

func f64s(v ...float64) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	return b
}

// arrays are the .npy files of an archive, by array name.
type arrays map[string][]byte

// valid are the arrays of the small matrix as save_npz writes them.
func valid() arrays {
	return arrays{
		"format":  npy("|S3", nil, []byte("csr")),
		"shape":   npy("<i8", []int{2}, i64s(3, 6)),
		"indptr":  npy("<i4", []int{4}, i32s(0, 2, 3, 5)),
		"indices": npy("<i4", []int{5}, i32s(1, 3, 2, 0, 4)),
		"data":    npy("<f4", []int{5}, f32s(1.5, -0.25, 0, 2, -3)),
	}
}

// npz zips the arrays, in name order.
func npz(t testing.TB, a arrays) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(a))
	for n := range a {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		w, err := zw.Create(n + ".npy")
		if err != nil {
			t.Fatal(err)
		}
		w.Write(a[n])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func with(edit func(a arrays)) arrays {
	a := valid()
	edit(a)
	return a
}

// TestDecodeVariants: what scipy may write besides the default, all
// giving the same matrix.
func TestDecodeVariants(t *testing.T) {
	for _, c := range []struct {
		name string
		a    arrays
	}{
		{"as written", valid()},
		{"int64 indices", with(func(a arrays) {
			a["indptr"] = npy("<i8", []int{4}, i64s(0, 2, 3, 5))
			a["indices"] = npy("<i8", []int{5}, i64s(1, 3, 2, 0, 4))
		})},
		{"float64 data", with(func(a arrays) { a["data"] = npy("<f8", []int{5}, f64s(1.5, -0.25, 0, 2, -3)) })},
		{"unsorted columns", with(func(a arrays) {
			a["indices"] = npy("<i4", []int{5}, i32s(3, 1, 2, 4, 0))
			a["data"] = npy("<f4", []int{5}, f32s(-0.25, 1.5, 0, -3, 2))
		})},
		{"a sparse array", with(func(a arrays) { a["_is_array"] = npy("|b1", nil, []byte{1}) })},
	} {
		got, err := DecodeCSR(npz(t, c.a), "m.npz")
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		same(t, c.name, got, small)
	}
	// float64 rounds to the nearest float32.
	got, err := DecodeCSR(npz(t, with(func(a arrays) { a["data"] = npy("<f8", []int{5}, f64s(0.1, 1, 1, 1, 1)) })), "m.npz")
	if err != nil || got.Weights[1] != float32(0.1) {
		t.Fatalf("float64 0.1: %v, %v", got, err)
	}
}

// TestDecodeBad: malformed and hostile files are refused with one line
// naming the file and what is wrong.
func TestDecodeBad(t *testing.T) {
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"not a zip", []byte("PK\x03\x04 nonsense"), "m.npz: not a .npz (zip) file"},
		{"empty", nil, "m.npz: not a .npz"},
		{"no format", npz(t, with(func(a arrays) { delete(a, "format") })), `no array "format"`},
		{"extra array", npz(t, with(func(a arrays) { a["bias"] = npy("<f4", []int{1}, f32s(1)) })), `arrays "bias" are not what scipy.sparse.save_npz writes`},
		{"coo", npz(t, with(func(a arrays) { a["format"] = npy("|S3", nil, []byte("coo")) })), `format "coo": this reads CSR matrices (save m.tocsr())`},
		{"format as a string", npz(t, with(func(a arrays) { a["format"] = npy("<U3", nil, make([]byte, 12)) })), "array format: <U3"},
		{"is_array of 2", npz(t, with(func(a arrays) { a["_is_array"] = npy("<i8", nil, i64s(2)) })), "array _is_array"},
		{"shape of 3", npz(t, with(func(a arrays) { a["shape"] = npy("<i8", []int{3}, i64s(3, 5, 1)) })), "shape.npy"},
		{"shape zero", npz(t, with(func(a arrays) { a["shape"] = npy("<i8", []int{2}, i64s(0, 5)) })), "matrix shape (0, 5)"},
		{"shape huge", npz(t, with(func(a arrays) { a["shape"] = npy("<i8", []int{2}, i64s(1<<40, 5)) })), "sizes must be in 1.."},
		{"shape float", npz(t, with(func(a arrays) { a["shape"] = npy("<f8", []int{2}, f64s(3, 5)) })), "want two integers"},
		{"indptr short", npz(t, with(func(a arrays) { a["indptr"] = npy("<i4", []int{3}, i32s(0, 2, 3)) })), "array indptr: shape (3,), want (4,)"},
		{"indptr longer than the matrix allows", npz(t, with(func(a arrays) { a["indptr"] = npy("<i4", []int{9}, make([]byte, 36)) })), "indptr.npy: shape (9,) of int32: 9 elements, more than the 4 allowed"},
		{"indptr from 1", npz(t, with(func(a arrays) { a["indptr"] = npy("<i4", []int{4}, i32s(1, 2, 3, 5)) })), "array indptr: starts at 1"},
		{"indptr decreasing", npz(t, with(func(a arrays) { a["indptr"] = npy("<i4", []int{4}, i32s(0, 3, 2, 5)) })), "offset 2 of row 2 is below offset 3 of row 1"},
		{"indptr past the matrix", npz(t, with(func(a arrays) { a["indptr"] = npy("<i4", []int{4}, i32s(0, 2, 3, 50)) })), "ends at 50 entries, more than a 3×6 matrix holds"},
		{"indptr float", npz(t, with(func(a arrays) { a["indptr"] = npy("<f4", []int{4}, f32s(0, 2, 3, 5)) })), "array indptr: dtype float32: want integers"},
		{"indices fewer", npz(t, with(func(a arrays) { a["indices"] = npy("<i4", []int{4}, i32s(1, 3, 2, 0)) })), "array indices: shape (4,), want (5,)"},
		{"indices more", npz(t, with(func(a arrays) { a["indices"] = npy("<i4", []int{6}, i32s(1, 3, 2, 0, 4, 4)) })), "more than the 5 allowed"},
		{"column outside", npz(t, with(func(a arrays) { a["indices"] = npy("<i4", []int{5}, i32s(1, 3, 2, 0, 6)) })), "entry 4 has column 6, outside the matrix's 6 columns"},
		{"column negative", npz(t, with(func(a arrays) { a["indices"] = npy("<i8", []int{5}, i64s(1, 3, 2, 0, -1)) })), "entry 4 has column -1"},
		{"column twice", npz(t, with(func(a arrays) { a["indices"] = npy("<i4", []int{5}, i32s(1, 1, 2, 0, 4)) })), "row 0 has column 1 twice"},
		{"data NaN", npz(t, with(func(a arrays) { a["data"] = npy("<f4", []int{5}, f32s(1, float32(math.NaN()), 0, 2, -3)) })), "array data: element 1 is NaN"},
		{"data beyond float32", npz(t, with(func(a arrays) { a["data"] = npy("<f8", []int{5}, f64s(1, 1e300, 0, 2, -3)) })), "element 1 is 1e+300, beyond float32"},
		{"data int", npz(t, with(func(a arrays) { a["data"] = npy("<i4", []int{5}, i32s(1, 1, 0, 2, -3)) })), "save m.astype(numpy.float32)"},
		{"data float16", npz(t, with(func(a arrays) { a["data"] = npy("<f2", []int{5}, make([]byte, 10)) })), "array data: dtype float16"},
		{"data truncated", npz(t, with(func(a arrays) { a["data"] = npy("<f4", []int{5}, f32s(1, 1, 0, 2)) })), "truncated"},
		{"data 2-d", npz(t, with(func(a arrays) { a["data"] = npy("<f4", []int{5, 1}, f32s(1, 1, 0, 2, 3)) })), "array data: shape (5, 1), want (5,)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := DecodeCSR(c.data, "m.npz")
			if err == nil {
				t.Fatalf("accepted: %+v", got)
			}
			t.Log(err)
			msg := err.Error()
			if !strings.HasPrefix(msg, "scipy: m.npz") || !strings.Contains(msg, c.want) || strings.Contains(msg, "\n") {
				t.Fatalf("error %q: want one line starting \"scipy: m.npz\" with %q", msg, c.want)
			}
		})
	}
}

// TestReplaceWeights puts the small matrix into a network's Linear layer:
// the layer keeps its name and bias, the network computes W x + b, and
// the original network is untouched; wrong shapes and layers are refused.
func TestReplaceWeights(t *testing.T) {
	net := &network.Network{Input: network.Shape{6}, Layers: []network.Layer{
		&network.Linear{LayerName: "fc1", In: 6, Out: 3, Weight: make([]float32, 18), Bias: []float32{0.5, 0, -1}},
		&network.ReLU{LayerName: "relu"},
		&network.Linear{LayerName: "fc2", In: 3, Out: 6, Weight: make([]float32, 18), Bias: make([]float32, 6)},
	}}
	got, err := ReadInto(net, "fc1", filepath.Join("testdata", "small_csr.npz"))
	if err != nil {
		t.Fatal(err)
	}
	sp, ok := got.Layers[0].(*network.SparseLinear)
	if !ok || sp.LayerName != "fc1" || !slices.Equal(sp.Bias, []float32{0.5, 0, -1}) {
		t.Fatalf("layer 0 is %+v", got.Layers[0])
	}
	if _, ok := net.Layers[0].(*network.Linear); !ok {
		t.Fatal("the original network was modified")
	}
	x := []float32{1, 2, 3, 4, 5, 6}
	y := make([]float32, 3)
	sp.Forward(y, x, 1)
	// W x + b by hand: 1.5·2 − 0.25·4 + 0.5, 0·3 + 0, 2·1 − 3·5 − 1.
	if want := []float32{2.5, 0, -14}; !slices.Equal(y, want) {
		t.Fatalf("W x + b = %v, want %v", y, want)
	}
	for _, c := range []struct {
		layer string
		want  string
	}{
		{"fc2", `layer 2 (linear "fc2") has weights [6, 3] (out, in), the matrix is [3, 6] (transposed? PyTorch's layout is [out, in])`},
		{"relu", `layer 1 (relu "relu") is not a Linear layer`},
		{"fc9", `no layer named "fc9"`},
	} {
		if _, err := ReplaceWeights(net, c.layer, small); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.layer, err, c.want)
		}
	}
}
