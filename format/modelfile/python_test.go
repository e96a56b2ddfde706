package modelfile

import (
	"encoding/json"
	"math"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/network"
)

// readerScript reads model files the way Python users do: with the
// safetensors package when it is installed (safe_open: metadata and
// tensors), otherwise with the rules of the safetensors format spelled out
// in json and numpy (header length, a JSON header whose __metadata__ maps
// strings to strings, F32 and I32 tensors whose data_offsets cover the
// data section exactly, in order, shapes matching their bytes). It prints,
// per file, the reader used, the evsnn document, every tensor's shape and
// 32-bit words, and for each sparselinear layer its weight matrix as
// scipy.sparse.csc_matrix((data, indices, indptr)) reads it, dense, when
// scipy is installed.
const readerScript = `
import json, struct, sys
import numpy as np

def spec_read(path):
    data = open(path, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    assert n <= 100_000_000 and 8 + n <= len(data)
    hdr = json.loads(data[8:8 + n].decode("utf-8"))
    meta = hdr.pop("__metadata__")
    assert isinstance(meta, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items())
    buf = data[8 + n:]
    pos, tensors = 0, {}
    for name, e in sorted(hdr.items(), key=lambda kv: kv[1]["data_offsets"]):
        assert set(e) == {"dtype", "shape", "data_offsets"} and e["dtype"] in ("F32", "I32")
        b, end = e["data_offsets"]
        assert b == pos and end >= b
        assert int(np.prod(e["shape"], dtype=np.int64)) * 4 == end - b
        tensors[name] = np.frombuffer(buf[b:end], dtype="<f4" if e["dtype"] == "F32" else "<i4").reshape(e["shape"])
        pos = end
    assert pos == len(buf)
    return meta, tensors

def read(path):
    try:
        from safetensors import safe_open
    except ImportError:
        meta, tensors = spec_read(path)
        return "spec", meta, tensors
    with safe_open(path, framework="np") as f:
        return "safetensors", f.metadata(), {k: f.get_tensor(k) for k in f.keys()}

def words(v):
    v = v.astype("<f4") if v.dtype.kind == "f" else v.astype("<i4")
    return v.view("<u4").ravel().tolist()

def sparse(doc, tensors):
    try:
        import scipy.sparse
    except ImportError:
        return None
    out = {}
    for i, l in enumerate(doc["layers"]):
        if l["kind"] == "sparselinear":
            p = "layers.%d." % i
            m = scipy.sparse.csc_matrix((tensors[p + "data"], tensors[p + "indices"], tensors[p + "indptr"]),
                                        shape=(l["out_features"], l["in_features"]))
            out[str(i)] = words(m.toarray())
    return out

out = []
for path in sys.argv[1:]:
    reader, meta, tensors = read(path)
    doc = json.loads(meta["evsnn"])
    out.append({"reader": reader, "doc": doc, "sparse": sparse(doc, tensors),
                "tensors": {k: {"shape": list(v.shape), "bits": words(v)} for k, v in tensors.items()}})
print(json.dumps(out))
`

// TestPythonReads writes graph and chain model files and reads them back
// in Python (see readerScript): the document and every tensor must be what
// was written, bit for bit.
func TestPythonReads(t *testing.T) {
	const py = "/usr/bin/python3"
	if out, err := exec.Command(py, "-c", "import numpy").CombinedOutput(); err != nil {
		t.Skipf("SKIPPED: %s with numpy is not installed (apt-get install python3-numpy): %v: %s", py, err, strings.TrimSpace(string(out)))
	}
	dir := t.TempDir()
	nets := []*network.Network{testNet(1, true), graphNet(2, snnref.ResNet, false), graphNet(1, snnref.VGG, true), sparseNet(1, snnref.MLP, false)}
	var paths []string
	for k, net := range nets {
		p := filepath.Join(dir, "m"+string(rune('0'+k))+".evsnn")
		if err := Save(p, net); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	out, err := exec.Command(py, append([]string{"-c", readerScript}, paths...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	var got []struct {
		Reader  string
		Doc     map[string]any
		Sparse  map[string][]uint32
		Tensors map[string]struct {
			Shape []int
			Bits  []uint32
		}
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("python output: %v\n%s", err, out)
	}
	if got[0].Reader != "safetensors" {
		t.Logf("Python's safetensors package is not installed (it is not in Debian 12); the files were read by the format's rules in json and numpy")
	}
	for k, net := range nets {
		g := got[k]
		if g.Doc["format"] != Format || g.Doc["version"] != float64(FileVersion(net)) || len(g.Doc["layers"].([]any)) != len(net.Layers) {
			t.Errorf("file %d: Python read document %v", k, g.Doc)
		}
		shapes, _ := net.Shapes()
		count := 0
		for i, l := range net.Layers {
			_, ts, err := encodeLayer(FileVersion(net), i, l, shapes[i], nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range ts {
				count++
				pt, ok := g.Tensors[want.name]
				if !ok {
					t.Fatalf("file %d: Python sees no tensor %s", k, want.name)
				}
				bits := make([]uint32, len(want.data))
				for j, v := range want.data {
					bits[j] = math.Float32bits(v)
				}
				for _, v := range want.ints {
					bits = append(bits, uint32(v))
				}
				if !slices.Equal(pt.Shape, want.shape) || !slices.Equal(pt.Bits, bits) {
					t.Errorf("file %d: tensor %s: Python reads shape %v and other bits", k, want.name, pt.Shape)
				}
			}
		}
		if count != len(g.Tensors) {
			t.Errorf("file %d: Python sees %d tensors, evsnn wrote %d", k, len(g.Tensors), count)
		}
		sparse := 0
		for i, l := range net.Layers {
			sp, ok := l.(*network.SparseLinear)
			if !ok {
				continue
			}
			sparse++
			if g.Sparse == nil {
				t.Logf("scipy is not installed: the sparse weights were not read as a scipy matrix")
				break
			}
			// By value: toarray adds each entry to a zero matrix, so a
			// −0 weight comes out +0.
			got, want := g.Sparse[strconv.Itoa(i)], sp.Dense()
			if len(got) != len(want) {
				t.Fatalf("file %d: layer %d: scipy reads %d weights, want %d", k, i, len(got), len(want))
			}
			for j, w := range want {
				if math.Float32frombits(got[j]) != w {
					t.Fatalf("file %d: layer %d: scipy.sparse.csc_matrix reads weight %d as %v, the layer has %v", k, i, j, math.Float32frombits(got[j]), w)
				}
			}
		}
		if g.Sparse != nil && len(g.Sparse) != sparse {
			t.Errorf("file %d: scipy read %d sparse layers, the network has %d", k, len(g.Sparse), sparse)
		}
	}
}
