package scipy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/network"
)

// FuzzDecodeCSR feeds DecodeCSR arbitrary bytes, seeded with the files
// scipy wrote and with archives of every variant the tests build. It must
// never panic; an error is one line starting "scipy: "; a matrix it
// accepts is a valid SparseLinear.
func FuzzDecodeCSR(f *testing.F) {
	for _, name := range []string{"small_csr.npz", "small_csr_f64_unsorted.npz"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(npz(f, valid()))
	f.Add(npz(f, with(func(a arrays) {
		a["indptr"] = npy("<i8", []int{4}, i64s(0, 2, 3, 5))
		a["indices"] = npy("<i8", []int{5}, i64s(1, 3, 2, 0, 4))
		a["data"] = npy("<f8", []int{5}, f64s(1.5, -0.25, 0, 2, -3))
		a["_is_array"] = npy("|b1", nil, []byte{1})
	})))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		sp, err := DecodeCSR(data, "f.npz")
		if err != nil {
			if sp != nil {
				t.Fatal("a matrix and an error")
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "scipy: ") || strings.Contains(msg, "\n") {
				t.Fatalf("error %q is not one line starting \"scipy: \"", msg)
			}
			return
		}
		net := &network.Network{Input: network.Shape{sp.In}, Layers: []network.Layer{sp}}
		if err := net.Validate(); err != nil {
			t.Fatalf("accepted an invalid matrix: %v", err)
		}
	})
}

// FuzzDecodeArrays fuzzes the five .npy arrays of a save_npz file, zipped
// with correct checksums, which random edits of a whole archive rarely
// get past: the reader's own checks of the arrays are what it reaches.
func FuzzDecodeArrays(f *testing.F) {
	v := valid()
	f.Add(v["format"], v["shape"], v["indptr"], v["indices"], v["data"])
	f.Add(v["format"], npy("<i8", []int{2}, i64s(1, 1)), npy("<i4", []int{2}, i32s(0, 0)), npy("<i4", []int{0}, nil), npy("<f4", []int{0}, nil))
	f.Add(v["format"], v["shape"], npy("<i8", []int{4}, i64s(0, 2, 3, 5)), npy("<i8", []int{5}, i64s(3, 1, 2, 4, 0)), npy("<f8", []int{5}, f64s(1, 2, 3, 4, 5)))
	f.Fuzz(func(t *testing.T, format, shape, indptr, indices, data []byte) {
		a := arrays{"format": format, "shape": shape, "indptr": indptr, "indices": indices, "data": data}
		sp, err := DecodeCSR(npz(t, a), "f.npz")
		if err != nil {
			if msg := err.Error(); !strings.HasPrefix(msg, "scipy: f.npz") || strings.Contains(msg, "\n") {
				t.Fatalf("error %q is not one line starting \"scipy: f.npz\"", msg)
			}
			return
		}
		net := &network.Network{Input: network.Shape{sp.In}, Layers: []network.Layer{sp}}
		if err := net.Validate(); err != nil {
			t.Fatalf("accepted an invalid matrix: %v", err)
		}
	})
}
