package scipy

import (
	"encoding/json"
	"math"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writerScript saves CSR matrices with scipy.sparse.save_npz in the ways
// Python users do (float32 and float64, deflated or not, int64 indices,
// csr_array, unsorted columns, explicit zeros, an empty matrix, a
// LeNet-sized layer) into the directory argv[1], and prints for each the
// file and its fan-out lists as evsnn holds them: the CSC form of the
// matrix (m.tocsc(), columns sorted), weights as float32 bits.
const writerScript = `
import json, os, sys
import numpy as np
import scipy.sparse as sp

rng = np.random.default_rng(7)
dir = sys.argv[1]
cases = []

def save(name, m, compressed=True):
    path = os.path.join(dir, name + ".npz")
    sp.save_npz(path, m, compressed=compressed)
    c = sp.csc_matrix(m, copy=True)
    c.sort_indices()
    cases.append({"name": name, "path": path, "rows": m.shape[0], "cols": m.shape[1],
                  "ptr": c.indptr.tolist(), "targets": c.indices.tolist(),
                  "bits": c.data.astype("<f4").view("<u4").tolist()})

save("f32", sp.random(20, 30, density=0.2, format="csr", dtype=np.float32, random_state=rng))
save("f64_stored", sp.random(7, 50, density=0.3, format="csr", random_state=rng), compressed=False)
m = sp.random(9, 11, density=0.4, format="csr", dtype=np.float32, random_state=rng)
m.indices, m.indptr = m.indices.astype(np.int64), m.indptr.astype(np.int64)
save("int64_indices", m)
save("csr_array", sp.csr_array(sp.random(5, 6, density=0.5, format="csr", dtype=np.float32, random_state=rng)))
save("empty", sp.csr_matrix((4, 5), dtype=np.float32))
u = sp.random(6, 8, density=0.6, format="csr", dtype=np.float32, random_state=rng)
for r in range(u.shape[0]):
    a, b = u.indptr[r], u.indptr[r + 1]
    u.indices[a:b], u.data[a:b] = u.indices[a:b][::-1].copy(), u.data[a:b][::-1].copy()
u.has_sorted_indices = False
save("unsorted", u)
z = sp.random(6, 8, density=0.6, format="csr", dtype=np.float32, random_state=rng)
z.data[::3] = 0
save("explicit_zeros", z)
save("lenet_fc1", sp.random(120, 256, density=0.1, format="csr", dtype=np.float32, random_state=rng))
print(json.dumps(cases))
`

// TestPythonWrites reads what scipy wrote (see writerScript): every file
// must give the lists scipy's own CSC conversion gives, bit for bit.
func TestPythonWrites(t *testing.T) {
	const py = "/usr/bin/python3"
	if out, err := exec.Command(py, "-c", "import numpy, scipy.sparse").CombinedOutput(); err != nil {
		t.Skipf("SKIPPED: %s with numpy and scipy is not installed (apt-get install python3-scipy): %v: %s", py, err, strings.TrimSpace(string(out)))
	}
	dir := t.TempDir()
	out, err := exec.Command(py, "-c", writerScript, dir).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	var cases []struct {
		Name, Path   string
		Rows, Cols   int
		Ptr, Targets []int32
		Bits         []uint32
	}
	if err := json.Unmarshal(out, &cases); err != nil {
		t.Fatalf("python output: %v\n%s", err, out)
	}
	if len(cases) != 8 {
		t.Fatalf("%d cases from python", len(cases))
	}
	for _, c := range cases {
		if filepath.Dir(c.Path) != dir {
			t.Fatalf("%s: written to %s", c.Name, c.Path)
		}
		got, err := ReadCSR(c.Path)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		bits := make([]uint32, len(got.Weights))
		for k, w := range got.Weights {
			bits[k] = math.Float32bits(w)
		}
		if got.Out != c.Rows || got.In != c.Cols || !slices.Equal(got.Ptr, c.Ptr) || !slices.Equal(got.Targets, c.Targets) || !slices.Equal(bits, c.Bits) {
			t.Errorf("%s: read [%d, %d] with %d synapses, scipy's CSC is [%d, %d] with %d", c.Name, got.Out, got.In, len(got.Weights), c.Rows, c.Cols, len(c.Bits))
		}
		if c.Name == "explicit_zeros" && !slices.Contains(got.Weights, 0) {
			t.Errorf("%s: the explicit zeros are gone", c.Name)
		}
	}
}
