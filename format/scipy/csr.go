package scipy

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/evsnn/evsnn/dataset"
	"github.com/evsnn/evsnn/network"
)

// Limits on what ReadCSR accepts: rows and columns each, and stored
// entries (4 bytes of index and 4 of weight each). The rows must be in
// the file (indptr has one offset per row) but the columns need not be:
// a file of a few bytes can declare MaxSize of them, which costs the
// In+1 offsets of the layer and a cursor per column (128 MiB at 2^24)
// and no more.
const (
	MaxSize     = 1 << 24
	MaxSynapses = 1 << 28
)

// The arrays save_npz writes for a CSR matrix, and the one it may add.
var (
	csrArrays     = []string{"data", "format", "indices", "indptr", "shape"}
	optionalArray = "_is_array"
)

// ReadCSR reads a CSR matrix saved by scipy.sparse.save_npz as the weights
// W [out, in] of a projection (rows = out, cols = in, PyTorch's layout)
// and returns them as a SparseLinear with a zero bias and no name. See the
// package documentation for what is accepted.
func ReadCSR(path string) (*network.SparseLinear, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("scipy: %w", err)
	}
	return DecodeCSR(data, path)
}

// DecodeCSR is ReadCSR on the bytes of a file; name is what errors call
// it.
func DecodeCSR(data []byte, name string) (*network.SparseLinear, error) {
	z, err := dataset.NewNPZ(bytes.NewReader(data), int64(len(data)), name)
	if err != nil {
		return nil, fmt.Errorf("scipy: %w", err)
	}
	sp, err := decode(z, name)
	if err != nil {
		return nil, fmt.Errorf("scipy: %w", err)
	}
	return sp, nil
}

// decode reads and checks the arrays of z in the order that bounds each
// by the ones before it.
func decode(z *dataset.NPZ, name string) (*network.SparseLinear, error) {
	var unknown []string
	for _, n := range z.Names() {
		if !slices.Contains(csrArrays, n) && n != optionalArray {
			unknown = append(unknown, strconv.Quote(n))
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("%s: arrays %s are not what scipy.sparse.save_npz writes (want %s)", name, strings.Join(unknown, ", "), strings.Join(csrArrays, ", "))
	}
	for _, n := range csrArrays {
		if !z.Has(n) {
			return nil, fmt.Errorf("%s: no array %q: not a file of scipy.sparse.save_npz", name, n)
		}
	}
	where := func(array string, err error) error { return fmt.Errorf("%s: array %s: %v", name, array, err) }

	fa, err := z.Array("format", 1)
	if err != nil {
		return nil, err
	}
	format, err := fa.Bytes()
	if err != nil {
		return nil, where("format", err)
	}
	if string(format) != "csr" {
		return nil, fmt.Errorf("%s: format %q: this reads CSR matrices (save m.tocsr())", name, format)
	}
	if z.Has(optionalArray) {
		a, err := z.Array(optionalArray, 1)
		if err != nil {
			return nil, err
		}
		if v, err := a.Int64s(); err != nil || len(a.Shape) != 0 || v[0] < 0 || v[0] > 1 {
			return nil, where(optionalArray, fmt.Errorf("%s of shape %s: want one bool", a.DType, pyShape(a.Shape)))
		}
	}

	rows, cols, err := readShape(z, name)
	if err != nil {
		return nil, err
	}
	indptr, err := vector(z, name, "indptr", rows+1, rows+1)
	if err != nil {
		return nil, err
	}
	if indptr[0] != 0 {
		return nil, where("indptr", fmt.Errorf("starts at %d, want 0", indptr[0]))
	}
	for r := range rows {
		if indptr[r+1] < indptr[r] {
			return nil, where("indptr", fmt.Errorf("offset %d of row %d is below offset %d of row %d (offsets must not decrease)", indptr[r+1], r+1, indptr[r], r))
		}
	}
	nnz64 := indptr[rows]
	if nnz64 > MaxSynapses || nnz64 > int64(rows)*int64(cols) {
		return nil, where("indptr", fmt.Errorf("ends at %d entries, more than a %d×%d matrix holds or the %d allowed", nnz64, rows, cols, MaxSynapses))
	}
	nnz := int(nnz64)
	indices, err := vector(z, name, "indices", nnz, nnz)
	if err != nil {
		return nil, err
	}
	da, err := z.Array("data", nnz)
	if err != nil {
		return nil, err
	}
	if len(da.Shape) != 1 || da.Shape[0] != nnz {
		return nil, where("data", fmt.Errorf("shape %s, want (%d,) (the entries indptr counts)", pyShape(da.Shape), nnz))
	}
	values, err := da.Float64s()
	if err != nil {
		hint := ""
		if da.DType != "float32" && da.DType != "float64" {
			hint = " (save m.astype(numpy.float32))"
		}
		return nil, where("data", fmt.Errorf("%v%s", err, hint))
	}
	weights := make([]float32, nnz)
	for k, v := range values {
		w := float32(v)
		if math.IsInf(float64(w), 0) {
			return nil, where("data", fmt.Errorf("element %d is %g, beyond float32", k, v))
		}
		weights[k] = w
	}
	return transpose(name, rows, cols, indptr, indices, weights)
}

// readShape reads the matrix's shape: two sizes in 1..MaxSize.
func readShape(z *dataset.NPZ, name string) (rows, cols int, err error) {
	a, err := z.Array("shape", 2)
	if err != nil {
		return 0, 0, err
	}
	v, err := a.Int64s()
	if err != nil || len(a.Shape) != 1 || len(v) != 2 {
		return 0, 0, fmt.Errorf("%s: array shape: %s of shape %s: want two integers (rows, cols)", name, a.DType, pyShape(a.Shape))
	}
	for _, d := range v {
		if d < 1 || d > MaxSize {
			return 0, 0, fmt.Errorf("%s: matrix shape (%d, %d): sizes must be in 1..%d", name, v[0], v[1], MaxSize)
		}
	}
	return int(v[0]), int(v[1]), nil
}

// vector reads an integer array of n elements (at most limit, checked
// before it is read).
func vector(z *dataset.NPZ, name, array string, n, limit int) ([]int64, error) {
	a, err := z.Array(array, limit)
	if err != nil {
		return nil, err
	}
	if len(a.Shape) != 1 || a.Shape[0] != n {
		return nil, fmt.Errorf("%s: array %s: shape %s, want (%d,)", name, array, pyShape(a.Shape), n)
	}
	v, err := a.Int64s()
	if err != nil {
		return nil, fmt.Errorf("%s: array %s: %v", name, array, err)
	}
	return v, nil
}

// transpose turns the rows of W (CSR: entries by output) into its columns
// (the fan-out lists of a SparseLinear: entries by input, outputs
// increasing), checking the columns.
func transpose(name string, rows, cols int, indptr, indices []int64, weights []float32) (*network.SparseLinear, error) {
	nnz := len(indices)
	sp := &network.SparseLinear{In: cols, Out: rows, Ptr: make([]int32, cols+1),
		Targets: make([]int32, nnz), Weights: make([]float32, nnz), Bias: make([]float32, rows)}
	for k, c := range indices {
		if c < 0 || c >= int64(cols) {
			return nil, fmt.Errorf("%s: array indices: entry %d has column %d, outside the matrix's %d columns", name, k, c, cols)
		}
		sp.Ptr[c+1]++
	}
	for c := range cols {
		sp.Ptr[c+1] += sp.Ptr[c]
	}
	next := slices.Clone(sp.Ptr[:cols])
	for r := range rows {
		for k := indptr[r]; k < indptr[r+1]; k++ {
			c := indices[k]
			at := next[c]
			// Rows are visited in increasing order, so a column twice in
			// row r is found right behind its slot.
			if at > sp.Ptr[c] && sp.Targets[at-1] == int32(r) {
				return nil, fmt.Errorf("%s: array indices: row %d has column %d twice (scipy would add them: call m.sum_duplicates() before save_npz)", name, r, c)
			}
			sp.Targets[at], sp.Weights[at] = int32(r), weights[k]
			next[c]++
		}
	}
	return sp, nil
}

// pyShape prints a shape as numpy does: (), (5,), (5, 3).
func pyShape(shape []int) string {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = strconv.Itoa(d)
	}
	if len(dims) == 1 {
		return "(" + dims[0] + ",)"
	}
	return "(" + strings.Join(dims, ", ") + ")"
}
