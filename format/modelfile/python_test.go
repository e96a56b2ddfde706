package modelfile

import (
	"encoding/json"
	"math"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/network"
)

// readerScript reads model files the way Python users do: with the
// safetensors package when it is installed (safe_open: metadata and
// tensors), otherwise with the rules of the safetensors format spelled out
// in json and numpy (header length, a JSON header whose __metadata__ maps
// strings to strings, F32 tensors whose data_offsets cover the data
// section exactly, in order, shapes matching their bytes). It prints, per
// file, the reader used, the evsnn document and every tensor's shape and
// float32 bits.
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
        assert set(e) == {"dtype", "shape", "data_offsets"} and e["dtype"] == "F32"
        b, end = e["data_offsets"]
        assert b == pos and end >= b
        assert int(np.prod(e["shape"], dtype=np.int64)) * 4 == end - b
        tensors[name] = np.frombuffer(buf[b:end], dtype="<f4").reshape(e["shape"])
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

out = []
for path in sys.argv[1:]:
    reader, meta, tensors = read(path)
    out.append({"reader": reader, "doc": json.loads(meta["evsnn"]),
                "tensors": {k: {"shape": list(v.shape), "bits": v.astype("<f4").view("<u4").ravel().tolist()} for k, v in tensors.items()}})
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
	nets := []*network.Network{testNet(1, true), graphNet(2, snnref.ResNet, false), graphNet(1, snnref.VGG, true)}
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
				if !slices.Equal(pt.Shape, want.shape) || !slices.Equal(pt.Bits, bits) {
					t.Errorf("file %d: tensor %s: Python reads shape %v and other bits", k, want.name, pt.Shape)
				}
			}
		}
		if count != len(g.Tensors) {
			t.Errorf("file %d: Python sees %d tensors, evsnn wrote %d", k, len(g.Tensors), count)
		}
	}
}
