package modelfile

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/network"
)

// awkward returns n float32s that stress a round trip: subnormals, both
// zeros, extremes, values with long shortest decimals, and ordinary ones.
func awkward(r *rand.Rand, n int) []float32 {
	special := []float32{
		0, float32(math.Copysign(0, -1)),
		math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32,
		math.Float32frombits(0x007fffff), // largest subnormal
		math.Float32frombits(0x00800000), // smallest normal
		math.MaxFloat32, -math.MaxFloat32,
		1, math.Nextafter32(1, 0), math.Nextafter32(1, 2),
		0.1, 1.0 / 3, 16777217, 1e-7, 3.4028235e38,
	}
	out := make([]float32, n)
	for i := range out {
		switch r.IntN(4) {
		case 0:
			out[i] = special[r.IntN(len(special))]
		case 1: // a random subnormal of either sign
			out[i] = math.Float32frombits(r.Uint32()&0x807fffff | 1)
		case 2: // any finite bit pattern
			for {
				v := math.Float32frombits(r.Uint32())
				if !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) {
					out[i] = v
					break
				}
			}
		default:
			out[i] = float32(r.NormFloat64() * 0.1)
		}
	}
	return out
}

func positive(r *rand.Rand, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		switch r.IntN(3) {
		case 0:
			out[i] = math.Float32frombits(r.Uint32()&0x007fffff | 1) // subnormal
		case 1:
			out[i] = math.Nextafter32(1, 0)
		default:
			out[i] = float32(r.ExpFloat64()) + 1e-3
		}
	}
	return out
}

// testNet builds a small LeNet-like network with random parameters. With
// snn, the ReLUs become spiking layers: the first with per-channel
// thresholds and a V0 vector, the second with a scalar threshold and no V0.
func testNet(seed uint64, snn bool) *network.Network {
	r := rand.New(rand.NewPCG(seed, 7))
	conv1 := &network.Conv2d{LayerName: "conv1", InC: 1, OutC: 3, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1,
		Weight: awkward(r, 3*1*3*3), Bias: awkward(r, 3)}
	conv2 := &network.Conv2d{LayerName: "conv2", InC: 3, OutC: 4, KH: 3, KW: 2, StrideH: 2, StrideW: 1, PadH: 1, PadW: 0,
		Weight: awkward(r, 4*3*3*2), Bias: awkward(r, 4)}
	// input [1,8,8] -> conv1 [3,8,8] -> pool [3,4,4] -> conv2 [4,2,3] -> flatten [24]
	fc1 := &network.Linear{LayerName: "fc1", In: 24, Out: 5, Weight: awkward(r, 24*5), Bias: awkward(r, 5)}
	fc2 := &network.Linear{LayerName: "fc2", In: 5, Out: 10, Weight: awkward(r, 50), Bias: awkward(r, 10)}
	var act1, act2, act3 network.Layer = &network.ReLU{LayerName: "relu1"}, &network.ReLU{LayerName: "relu2"}, &network.ReLU{LayerName: "relu3"}
	meta := network.Metadata{Source: "test seed " + fmt.Sprint(seed)}
	if snn {
		act1 = &network.Spiking{LayerName: "if1", Threshold: positive(r, 3), Alpha: math.Nextafter32(1, 0),
			Reset: network.ResetSoft, V0Fraction: 0.5, V0: awkward(r, 3*8*8)}
		act2 = &network.Spiking{LayerName: "if2", Threshold: positive(r, 1), Alpha: 1,
			Reset: network.ResetHard, V0Fraction: float32(math.Copysign(0, -1))}
		act3 = &network.Spiking{LayerName: "if3", Threshold: positive(r, 5), Alpha: math.SmallestNonzeroFloat32,
			Reset: network.ResetSoft, V0Fraction: 1.0 / 3, V0: awkward(r, 5)}
		meta.Conversion = &network.Conversion{Statistic: "p99.99", Images: 1024, Neuron: "lif",
			Alpha: math.Nextafter32(1, 0), Reset: network.ResetSoft, V0Fraction: 0.1,
			BiasShift: true, BiasShiftT: 32, Description: "ünïcode \"quoted\" \u2028"}
		meta.Calibration = &network.Calibration{Method: "bc,pc", T: 32, Images: 1024, Seed: math.MaxUint64}
	}
	return &network.Network{
		Input: network.Shape{1, 8, 8},
		Layers: []network.Layer{conv1, act1, &network.AvgPool2d{LayerName: "pool1", KH: 2, KW: 2, StrideH: 2, StrideW: 2},
			conv2, act2, &network.Flatten{LayerName: "flatten"}, fc1, act3, fc2},
		Meta: meta,
	}
}

func encode(t testing.TB, net *network.Network) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Encode(&buf, net); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// bitsEqual compares two values deeply, float32s and float64s by their
// bits (so -0 ≠ +0) and slices by nil-ness as well as content.
func bitsEqual(a, b reflect.Value, path string) error {
	if a.Type() != b.Type() {
		return fmt.Errorf("%s: type %v vs %v", path, a.Type(), b.Type())
	}
	switch a.Kind() {
	case reflect.Float32:
		if math.Float32bits(float32(a.Float())) != math.Float32bits(float32(b.Float())) {
			return fmt.Errorf("%s: %v (%#x) vs %v (%#x)", path, a.Float(), math.Float32bits(float32(a.Float())), b.Float(), math.Float32bits(float32(b.Float())))
		}
	case reflect.Float64:
		if math.Float64bits(a.Float()) != math.Float64bits(b.Float()) {
			return fmt.Errorf("%s: %v vs %v", path, a.Float(), b.Float())
		}
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				return fmt.Errorf("%s: nil %v vs %v", path, a.IsNil(), b.IsNil())
			}
			return nil
		}
		return bitsEqual(a.Elem(), b.Elem(), path)
	case reflect.Slice:
		if a.IsNil() != b.IsNil() {
			return fmt.Errorf("%s: nil %v vs %v", path, a.IsNil(), b.IsNil())
		}
		if a.Len() != b.Len() {
			return fmt.Errorf("%s: length %d vs %d", path, a.Len(), b.Len())
		}
		for i := 0; i < a.Len(); i++ {
			if err := bitsEqual(a.Index(i), b.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			if err := bitsEqual(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name); err != nil {
				return err
			}
		}
	default:
		if !reflect.DeepEqual(a.Interface(), b.Interface()) {
			return fmt.Errorf("%s: %v vs %v", path, a.Interface(), b.Interface())
		}
	}
	return nil
}

func checkSame(t testing.TB, want, got *network.Network) {
	t.Helper()
	if err := bitsEqual(reflect.ValueOf(want), reflect.ValueOf(got), "net"); err != nil {
		t.Fatalf("round trip differs: %v", err)
	}
}

func TestRoundTripBitExact(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		for _, snn := range []bool{false, true} {
			net := testNet(seed, snn)
			if err := net.Validate(); err != nil {
				t.Fatalf("seed %d: test network invalid: %v", seed, err)
			}
			data := encode(t, net)
			got, err := Decode(data)
			if err != nil {
				t.Fatalf("seed %d snn %v: %v", seed, snn, err)
			}
			checkSame(t, net, got)
			if again := encode(t, got); !bytes.Equal(again, data) {
				t.Fatalf("seed %d snn %v: re-encoding gives different bytes", seed, snn)
			}
		}
	}
}

func TestAwkwardScalarsRoundTrip(t *testing.T) {
	// Every float32 scalar that lives in the JSON document (alpha,
	// v0_fraction and the metadata's copies) must come back bit for bit.
	vals := []float32{
		math.SmallestNonzeroFloat32, math.Float32frombits(0x007fffff), math.Float32frombits(0x00800000),
		math.Nextafter32(1, 0), 0.1, 0.2, 0.3, 1.0 / 3, 2.0 / 3, 0.9, 0.99, 0.999999, 1e-7, 1e-6, 1e-5,
		float32(math.Pi) / 4, 0.70710677, 0.5, 1,
	}
	r := rand.New(rand.NewPCG(3, 3))
	for i := 0; i < 200; i++ {
		// random alphas in (0,1]
		for {
			v := math.Float32frombits(r.Uint32() & 0x3fffffff)
			if v > 0 && v <= 1 {
				vals = append(vals, v)
				break
			}
		}
	}
	frac := []float32{float32(math.Copysign(0, -1)), 0, -math.MaxFloat32, math.MaxFloat32, -math.SmallestNonzeroFloat32, 1e38, 123456.79}
	for i, a := range vals {
		net := testNet(uint64(i), true)
		sp := net.Layers[1].(*network.Spiking)
		sp.Alpha = a
		sp.V0Fraction = frac[i%len(frac)]
		net.Meta.Conversion.Alpha = a
		net.Meta.Conversion.V0Fraction = frac[(i+1)%len(frac)]
		got, err := Decode(encode(t, net))
		if err != nil {
			t.Fatalf("alpha %v: %v", a, err)
		}
		checkSame(t, net, got)
	}
}

func TestEncodeRefusesInvalid(t *testing.T) {
	net := testNet(1, true)
	net.Layers[0].(*network.Conv2d).Weight[3] = float32(math.NaN())
	if err := Encode(&bytes.Buffer{}, net); err == nil || !strings.Contains(err.Error(), "layer 0") {
		t.Fatalf("NaN weight: err = %v", err)
	}
	if err := Encode(&bytes.Buffer{}, nil); err == nil {
		t.Fatal("nil network encoded")
	}
	net = testNet(1, true)
	net.Meta.Conversion.Alpha = float32(math.Inf(1))
	if err := Encode(&bytes.Buffer{}, net); err == nil || !strings.Contains(err.Error(), "metadata") {
		t.Fatalf("Inf metadata alpha: err = %v", err)
	}
}

func TestFileLayout(t *testing.T) {
	net := testNet(5, true)
	data := encode(t, net)
	n := binary.LittleEndian.Uint64(data)
	if (8+n)%8 != 0 {
		t.Errorf("data section starts at %d, not 8-byte aligned", 8+n)
	}
	var hdr map[string]json.RawMessage
	if err := json.Unmarshal(data[8:8+n], &hdr); err != nil {
		t.Fatal(err)
	}
	var meta map[string]string
	if err := json.Unmarshal(hdr["__metadata__"], &meta); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(meta["evsnn"]), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["format"] != "evsnn-model" || doc["version"] != 1.0 {
		t.Errorf("document head: format %v version %v", doc["format"], doc["version"])
	}
	want := map[string][]int{
		"layers.0.weight": {3, 1, 3, 3}, "layers.0.bias": {3},
		"layers.1.threshold": {3}, "layers.1.v0": {3, 8, 8},
		"layers.3.weight": {4, 3, 3, 2}, "layers.3.bias": {4},
		"layers.4.threshold": {1},
		"layers.6.weight":    {5, 24}, "layers.6.bias": {5},
		"layers.7.threshold": {5}, "layers.7.v0": {5},
		"layers.8.weight": {10, 5}, "layers.8.bias": {10},
	}
	if len(hdr)-1 != len(want) {
		t.Errorf("%d tensors, want %d", len(hdr)-1, len(want))
	}
	// Read one tensor the way a foreign reader would: offsets, little-endian.
	fc2 := net.Layers[8].(*network.Linear)
	for name, shape := range want {
		var info tensorInfo
		if err := json.Unmarshal(hdr[name], &info); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if info.DType != "F32" || fmt.Sprint(info.Shape) != fmt.Sprint(shape) {
			t.Errorf("%s: dtype %s shape %v, want F32 %v", name, info.DType, info.Shape, shape)
		}
		if name == "layers.8.weight" {
			base := 8 + int64(n) + info.DataOffsets[0]
			for k, w := range fc2.Weight {
				if got := binary.LittleEndian.Uint32(data[base+4*int64(k):]); got != math.Float32bits(w) {
					t.Fatalf("%s[%d] = %#x, want %#x", name, k, got, math.Float32bits(w))
				}
			}
		}
	}
}

func TestSaveLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.evsnn")
	net := testNet(9, true)
	if err := Save(path, net); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, net, got)
	before, _ := os.ReadFile(path)

	// A failed save leaves the file as it was and no temporary behind.
	bad := testNet(10, false)
	bad.Layers[0].(*network.Conv2d).Bias = nil
	if err := Save(path, bad); err == nil {
		t.Fatal("saved an invalid network")
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatal("failed save changed the file")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("directory has %d entries after a failed save", len(entries))
	}

	if _, err := Load(filepath.Join(dir, "missing")); err == nil || errors.Is(err, ErrInvalid) {
		t.Fatalf("missing file: err = %v", err)
	}
	os.WriteFile(filepath.Join(dir, "junk"), []byte("not a model at all"), 0o644)
	if _, err := Load(filepath.Join(dir, "junk")); err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "junk") {
		t.Fatalf("junk file: err = %v", err)
	}
}

func TestIsModelFile(t *testing.T) {
	data := encode(t, testNet(2, false))
	if !IsModelFile(data) {
		t.Error("a model file is not sniffed as one")
	}
	if !IsModelFile(data[:64]) {
		t.Error("the first 64 bytes of a model file are not sniffed as one")
	}
	for _, bad := range [][]byte{nil, []byte("{}"), []byte("\x08\x07\x12\x07pytorch"), make([]byte, 100), data[8:]} {
		if IsModelFile(bad) {
			t.Errorf("%q sniffed as a model file", bad[:min(len(bad), 16)])
		}
	}
	onnx, err := os.ReadFile(filepath.Join("..", "..", "testdata", "mnist_lenet.onnx"))
	if err != nil {
		t.Fatalf("the ONNX fixture of the repository: %v", err)
	}
	if IsModelFile(onnx) {
		t.Error("the ONNX fixture is sniffed as a model file")
	}
	for _, name := range []string{"v1_snn.evsnn", "v1_ann.evsnn"} {
		head, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if !IsModelFile(head[:256]) {
			t.Errorf("testdata/%s is not sniffed as a model file", name)
		}
	}
	// A plain safetensors file without the evsnn document is not one.
	plain := rebuild(t, data, func(h map[string]any, d *[]byte) { h["__metadata__"] = map[string]string{"format": "pt"} })
	if IsModelFile(plain) {
		t.Error("a plain safetensors file is sniffed as a model file")
	}
}

func TestDecodeBadInputs(t *testing.T) {
	valid := encode(t, testNet(4, true))
	hdrLen := binary.LittleEndian.Uint64(valid)
	withLen := func(n uint64, rest []byte) []byte {
		return append(binary.LittleEndian.AppendUint64(nil, n), rest...)
	}
	nan, inf := float32(math.NaN()), float32(math.Inf(1))

	cases := []struct {
		name string
		data []byte
		want []string // substrings of the error
	}{
		{"empty", nil, []string{"too short"}},
		{"seven bytes", []byte{1, 2, 3, 4, 5, 6, 7}, []string{"too short"}},
		{"header longer than file", withLen(hdrLen+1, valid[8:hdrLen+8]), []string{"header length", "exceeds"}},
		{"header over 100 MB", withLen(100_000_001, valid[8:]), []string{"header length 100000001", "limit"}},
		{"header 2^64-1", withLen(math.MaxUint64, valid[8:]), []string{"header length", "limit"}},
		{"header not an object", withLen(4, []byte("[1] ")), []string{"does not start with '{'"}},
		{"header bad JSON", withLen(6, []byte(`{"a":}`)), []string{"header is not a JSON object"}},
		{"no metadata", rebuild(t, valid, func(h map[string]any, _ *[]byte) { delete(h, "__metadata__") }),
			[]string{"no __metadata__"}},
		{"metadata not strings", rebuild(t, valid, func(h map[string]any, _ *[]byte) { h["__metadata__"] = map[string]any{"evsnn": 1} }),
			[]string{"__metadata__ is not a map of strings"}},
		{"no evsnn document", rebuild(t, valid, func(h map[string]any, _ *[]byte) { h["__metadata__"] = map[string]any{"format": "pt"} }),
			[]string{`no "evsnn" key`}},
		{"document not JSON", rebuild(t, valid, func(h map[string]any, _ *[]byte) { h["__metadata__"] = map[string]any{"evsnn": "{"} }),
			[]string{`__metadata__["evsnn"]`}},
		{"wrong format", editDoc(t, valid, func(d map[string]any) { d["format"] = "onnx" }), []string{`format "onnx"`}},
		{"version 4", editDoc(t, valid, func(d map[string]any) { d["version"] = 4 }), []string{"unsupported version 4"}},
		{"version 0", editDoc(t, valid, func(d map[string]any) { delete(d, "version") }), []string{"unsupported version 0"}},
		{"unknown document field", editDoc(t, valid, func(d map[string]any) { d["extra"] = 1 }), []string{`unknown field "extra"`}},
		{"no input", editDoc(t, valid, func(d map[string]any) { delete(d, "input") }), []string{"input shape is missing"}},
		{"absurd input", editDoc(t, valid, func(d map[string]any) { d["input"] = []any{1 << 20, 1 << 20, 1 << 20} }), []string{"input", "more than"}},
		{"negative input", editDoc(t, valid, func(d map[string]any) { d["input"] = []any{1, -8, 8} }), []string{"input shape [1 -8 8]"}},
		{"no layers", editDoc(t, valid, func(d map[string]any) { d["layers"] = []any{} }), []string{"no layers"}},
		{"unknown kind", editDoc(t, valid, func(d map[string]any) { layerDoc(d, 2)["kind"] = "avgpool3d" }),
			[]string{"layer 2", `unknown layer kind "avgpool3d"`}},
		{"kind of version 2", editDoc(t, valid, func(d map[string]any) { layerDoc(d, 2)["kind"] = "maxpool2d" }),
			[]string{`layer 2 ("pool1")`, `unknown layer kind "maxpool2d" in a version 1 file`}},
		{"no kind", editDoc(t, valid, func(d map[string]any) { delete(layerDoc(d, 5), "kind") }), []string{"layer 5", `no "kind"`}},
		{"layer not object", editDoc(t, valid, func(d map[string]any) { d["layers"].([]any)[3] = 7 }), []string{"layer 3", "not a JSON object"}},
		{"unknown layer field", editDoc(t, valid, func(d map[string]any) { layerDoc(d, 0)["dilation"] = []any{2, 2} }),
			[]string{`layer 0 (conv2d "conv1")`, `unknown field "dilation"`}},
		{"case-folded field", editDoc(t, valid, func(d map[string]any) { l := layerDoc(d, 0); l["Stride"] = l["stride"]; delete(l, "stride") }),
			[]string{`layer 0 (conv2d "conv1")`, `missing field "stride"`}},
		{"missing layer field", editDoc(t, valid, func(d map[string]any) { delete(layerDoc(d, 1), "reset") }),
			[]string{`layer 1 (spiking "if1")`, `missing field "reset"`}},
		{"kernel of three", editDoc(t, valid, func(d map[string]any) { layerDoc(d, 2)["kernel"] = []any{2, 2, 2} }),
			[]string{`layer 2 (avgpool2d "pool1")`, "kernel has 3 values"}},
		{"zero stride", editDoc(t, valid, func(d map[string]any) { layerDoc(d, 3)["stride"] = []any{0, 1} }),
			[]string{`layer 3 (conv2d "conv2")`, "stride [0 1]"}},
		{"huge padding", editDoc(t, valid, func(d map[string]any) { layerDoc(d, 3)["padding"] = []any{float64(1 << 40), 0} }),
			[]string{`layer 3 (conv2d "conv2")`, "padding"}},
		{"absurd channels", editDoc(t, valid, func(d map[string]any) { layerDoc(d, 0)["out_channels"] = float64(1 << 40) }),
			[]string{`layer 0 (conv2d "conv1")`, "channels"}},
		{"fractional size", editDoc(t, valid, func(d map[string]any) { layerDoc(d, 6)["in_features"] = 2.5 }),
			[]string{`layer 6 (linear "fc1")`, "in_features"}},
		{"hyperparameters disagree with weight", editDoc(t, valid, func(d map[string]any) { layerDoc(d, 6)["in_features"] = 25 }),
			[]string{`layer 6 (linear "fc1")`, `tensor "layers.6.weight" has shape [5 24], want [5 25]`}},
		{"layers do not fit", editDoc(t, valid, func(d map[string]any) { layerDoc(d, 3)["stride"] = []any{1, 1} }),
			[]string{`layer 6`, "input has 48 features, weights expect 24"}},
		{"bad reset", editDoc(t, valid, func(d map[string]any) { layerDoc(d, 4)["reset"] = "sideways" }),
			[]string{`layer 4`, `reset "sideways"`}},
		{"alpha above 1", editDoc(t, valid, func(d map[string]any) { layerDoc(d, 4)["alpha"] = 1.5 }),
			[]string{`layer 4`, "alpha 1.5"}},
		{"alpha overflows float32", editDoc(t, valid, func(d map[string]any) { layerDoc(d, 4)["alpha"] = 1e39 }),
			[]string{`layer 4 (spiking "if2")`}},
		{"duplicate names", editDoc(t, valid, func(d map[string]any) { layerDoc(d, 8)["name"] = "fc1" }),
			[]string{"layer 8", `name "fc1" already used by layer 6`}},
		{"unknown metadata field", editDoc(t, valid, func(d map[string]any) { d["meta"].(map[string]any)["owner"] = "x" }),
			[]string{`unknown field "owner"`}},
		{"dtype F16", rebuild(t, valid, func(h map[string]any, _ *[]byte) { tensorEntry(h, "layers.0.bias")["dtype"] = "F16" }),
			[]string{`tensor "layers.0.bias"`, `dtype "F16"`}},
		{"dtype F64", rebuild(t, valid, func(h map[string]any, _ *[]byte) { tensorEntry(h, "layers.8.weight")["dtype"] = "F64" }),
			[]string{`tensor "layers.8.weight"`, `dtype "F64"`}},
		{"entry without dtype", rebuild(t, valid, func(h map[string]any, _ *[]byte) { delete(tensorEntry(h, "layers.0.bias"), "dtype") }),
			[]string{`tensor "layers.0.bias"`, `no "dtype"`}},
		{"entry with extra field", rebuild(t, valid, func(h map[string]any, _ *[]byte) { tensorEntry(h, "layers.0.bias")["offsets"] = 1 }),
			[]string{`tensor "layers.0.bias"`, "fields other than"}},
		{"entry not object", rebuild(t, valid, func(h map[string]any, _ *[]byte) { h["layers.0.bias"] = "x" }),
			[]string{`tensor "layers.0.bias"`, "not a JSON object"}},
		{"shape product mismatch", rebuild(t, valid, func(h map[string]any, _ *[]byte) { tensorEntry(h, "layers.0.bias")["shape"] = []any{4} }),
			[]string{`tensor "layers.0.bias"`, "shape [4] needs 16 bytes", "hold 12"}},
		{"shape 2^40 elements", rebuild(t, valid, func(h map[string]any, _ *[]byte) {
			tensorEntry(h, "layers.8.weight")["shape"] = []any{1 << 20, 1 << 20}
		}), []string{`tensor "layers.8.weight"`, "absurd"}},
		{"shape overflowing int64", rebuild(t, valid, func(h map[string]any, _ *[]byte) {
			tensorEntry(h, "layers.8.weight")["shape"] = []any{float64(1 << 31), float64(1 << 31), float64(1 << 31), 0}
		}), []string{`tensor "layers.8.weight"`, "absurd"}},
		{"negative dimension", rebuild(t, valid, func(h map[string]any, _ *[]byte) { tensorEntry(h, "layers.8.bias")["shape"] = []any{-10} }),
			[]string{`tensor "layers.8.bias"`, "negative"}},
		{"offsets out of range", rebuild(t, valid, func(h map[string]any, d *[]byte) {
			tensorEntry(h, "layers.8.bias")["data_offsets"] = []any{len(*d) - 8, len(*d) + 32}
		}), []string{`tensor "layers.8.bias"`, "out of range"}},
		{"negative offset", rebuild(t, valid, func(h map[string]any, _ *[]byte) { tensorEntry(h, "layers.0.bias")["data_offsets"] = []any{-4, 8} }),
			[]string{`tensor "layers.0.bias"`, "out of range"}},
		{"reversed offsets", rebuild(t, valid, func(h map[string]any, _ *[]byte) { tensorEntry(h, "layers.0.bias")["data_offsets"] = []any{48, 36} }),
			[]string{`tensor "layers.0.bias"`, "out of range"}},
		{"three offsets", rebuild(t, valid, func(h map[string]any, _ *[]byte) { tensorEntry(h, "layers.0.bias")["data_offsets"] = []any{0, 4, 8} }),
			[]string{`tensor "layers.0.bias"`, "data_offsets has 3 values"}},
		{"overlapping offsets", rebuild(t, valid, func(h map[string]any, _ *[]byte) {
			e := tensorEntry(h, "layers.0.bias")
			e["data_offsets"] = []any{4, 16} // inside layers.0.weight
		}), []string{"overlap"}},
		{"hole", rebuild(t, valid, func(h map[string]any, d *[]byte) {
			// move the last tensor (layers.8.bias) 4 bytes on
			e := tensorEntry(h, "layers.8.bias")
			o := e["data_offsets"].([]any)
			e["data_offsets"] = []any{o[0].(float64) + 4, o[1].(float64) + 4}
			*d = append(*d, 0, 0, 0, 0)
		}), []string{`tensor "layers.8.bias"`, "hole of 4 bytes"}},
		{"trailing bytes", append(bytes.Clone(valid), 1, 2, 3, 4), []string{"4 bytes after the last tensor"}},
		{"truncated data", valid[:len(valid)-4], []string{`tensor "layers.8.bias"`, "out of range"}},
		{"missing tensor", rebuild(t, valid, func(h map[string]any, d *[]byte) {
			// drop the last tensor and its bytes
			delete(h, "layers.8.bias")
			*d = (*d)[:len(*d)-40]
		}), []string{`layer 8 (linear "fc2")`, `tensor "layers.8.bias" is missing`}},
		{"missing threshold", rebuild(t, valid, func(h map[string]any, _ *[]byte) {
			h["layers.9.threshold"] = h["layers.7.threshold"]
			delete(h, "layers.7.threshold")
		}), []string{`layer 7 (spiking "if3")`, `tensor "layers.7.threshold" is missing`}},
		{"extra tensor", rebuild(t, valid, func(h map[string]any, d *[]byte) {
			h["layers.2.weight"] = map[string]any{"dtype": "F32", "shape": []any{1}, "data_offsets": []any{len(*d), len(*d) + 4}}
			*d = append(*d, 0, 0, 128, 63)
		}), []string{`tensor "layers.2.weight" belongs to no layer`}},
		{"scalar threshold tensor", rebuild(t, valid, func(h map[string]any, _ *[]byte) { tensorEntry(h, "layers.4.threshold")["shape"] = []any{} }),
			[]string{`layer 4 (spiking "if2")`, `tensor "layers.4.threshold" has shape []`}},
		{"wrong v0 count", rebuild(t, valid, func(h map[string]any, d *[]byte) { resize(h, d, "layers.7.v0", 4) }),
			[]string{`layer 7`, "4 initial potentials for 5 neurons"}},
		{"wrong threshold count", rebuild(t, valid, func(h map[string]any, d *[]byte) { resize(h, d, "layers.1.threshold", 2) }),
			[]string{`layer 1`, "2 thresholds for 3 channels"}},
		{"NaN weight", rebuild(t, valid, func(h map[string]any, d *[]byte) { putFloat(h, *d, "layers.3.weight", 5, nan) }),
			[]string{`layer 3 (conv2d "conv2")`, `tensor "layers.3.weight": element 5 is NaN`}},
		{"Inf bias", rebuild(t, valid, func(h map[string]any, d *[]byte) { putFloat(h, *d, "layers.8.bias", 9, -inf) }),
			[]string{`layer 8 (linear "fc2")`, `tensor "layers.8.bias": element 9 is -Inf`}},
		{"NaN threshold", rebuild(t, valid, func(h map[string]any, d *[]byte) { putFloat(h, *d, "layers.4.threshold", 0, nan) }),
			[]string{`layer 4 (spiking "if2")`, `tensor "layers.4.threshold": element 0 is NaN`}},
		{"zero threshold", rebuild(t, valid, func(h map[string]any, d *[]byte) { putFloat(h, *d, "layers.1.threshold", 2, 0) }),
			[]string{`spiking "if1"`, "threshold 2 is 0"}},
		{"Inf v0", rebuild(t, valid, func(h map[string]any, d *[]byte) { putFloat(h, *d, "layers.7.v0", 4, inf) }),
			[]string{`layer 7 (spiking "if3")`, `tensor "layers.7.v0": element 4 is +Inf`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			net, err := Decode(c.data)
			runtime.ReadMemStats(&after)
			if err == nil {
				t.Fatalf("decoded a bad file: %d layers", len(net.Layers))
			}
			if net != nil {
				t.Error("non-nil network with an error")
			}
			t.Log(err)
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error does not wrap ErrInvalid: %v", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20+64*uint64(len(c.data)) {
				t.Errorf("allocated %d bytes for a %d-byte file", alloc, len(c.data))
			}
		})
	}
}

func TestDecodeDoesNotAliasInput(t *testing.T) {
	data := encode(t, testNet(6, false))
	net, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	w := net.Layers[0].(*network.Conv2d).Weight[0]
	for i := range data {
		data[i] = 0xff
	}
	if got := net.Layers[0].(*network.Conv2d).Weight[0]; math.Float32bits(got) != math.Float32bits(w) {
		t.Fatal("decoded weights alias the input buffer")
	}
}

type failWriter struct{ after int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.after <= 0 {
		return 0, errors.New("disk full")
	}
	f.after--
	return len(p), nil
}

func TestEncodeWriteError(t *testing.T) {
	for after := 0; after < 3; after++ {
		if err := Encode(&failWriter{after}, testNet(1, true)); err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("write %d fails: err = %v", after, err)
		}
	}
}

func TestLargeTensorStreams(t *testing.T) {
	// A weight larger than the encoder's 64 KiB write buffer.
	r := rand.New(rand.NewPCG(1, 1))
	net := &network.Network{Input: network.Shape{300}, Layers: []network.Layer{
		&network.Linear{LayerName: "fc", In: 300, Out: 100, Weight: awkward(r, 30000), Bias: awkward(r, 100)},
	}}
	got, err := Decode(encode(t, net))
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, net, got)
}
