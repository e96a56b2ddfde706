package modelfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/network"
)

// graphNet is a random graph SNN of the given kind (snnref.RandomNet) with
// its parameters replaced by awkward ones: subnormals, −0, extremes. With
// ann, its spiking layers become ReLUs.
func graphNet(seed uint64, kind snnref.Kind, ann bool) *network.Network {
	r := rand.New(rand.NewPCG(seed, uint64(kind)))
	cfg := snnref.Config{Kind: kind, Alpha: 1, Reset: network.ResetSoft}
	if seed%2 == 0 {
		cfg.Alpha, cfg.Reset = 0.5, network.ResetHard
	}
	net := snnref.RandomNet(r, cfg)
	for i, l := range net.Layers {
		switch l := l.(type) {
		case *network.Conv2d:
			l.Weight, l.Bias = awkward(r, len(l.Weight)), awkward(r, len(l.Bias))
		case *network.Linear:
			l.Weight, l.Bias = awkward(r, len(l.Weight)), awkward(r, len(l.Bias))
		case *network.Add:
			if l.Bias != nil {
				l.Bias = awkward(r, len(l.Bias))
				l.Bias[0] = float32(math.Copysign(0, -1))
			}
		case *network.Spiking:
			l.Threshold = positive(r, len(l.Threshold))
			if l.V0 != nil {
				l.V0 = awkward(r, len(l.V0))
			}
			if ann {
				net.Layers[i] = &network.ReLU{LayerName: l.LayerName}
			}
		}
	}
	net.Meta = network.Metadata{Source: "random " + kind.String()}
	if !ann {
		net.Meta.Conversion = &network.Conversion{Statistic: "max", Images: 3, Neuron: "if", Alpha: cfg.Alpha, Reset: cfg.Reset}
	}
	return net
}

func hasKind(net *network.Network, k network.Kind) bool {
	for _, l := range net.Layers {
		if l.Kind() == k {
			return true
		}
	}
	return false
}

// TestGraphRoundTrip stores random residual and VGG-like graphs (and the
// chains and MLPs RandomNet builds), SNN and ANN, and checks that they
// come back bit for bit, inputs included, and re-encode to the same bytes.
func TestGraphRoundTrip(t *testing.T) {
	seen := map[network.Kind]int{}
	graphs := 0
	for _, kind := range snnref.Kinds {
		for seed := uint64(1); seed <= 12; seed++ {
			for _, ann := range []bool{false, true} {
				net := graphNet(seed, kind, ann)
				if err := net.Validate(); err != nil {
					t.Fatalf("%v seed %d: test network invalid: %v", kind, seed, err)
				}
				data := encode(t, net)
				got, err := Decode(data)
				if err != nil {
					t.Fatalf("%v seed %d ann %v: %v", kind, seed, ann, err)
				}
				checkSame(t, net, got)
				if again := encode(t, got); !bytes.Equal(again, data) {
					t.Fatalf("%v seed %d ann %v: re-encoding gives different bytes", kind, seed, ann)
				}
				for _, l := range net.Layers {
					seen[l.Kind()]++
				}
				if net.Inputs != nil {
					graphs++
				}
			}
		}
	}
	for _, k := range []network.Kind{network.KindConv2d, network.KindLinear, network.KindAvgPool2d, network.KindMaxPool2d,
		network.KindGlobalAvgPool, network.KindAdd, network.KindReLU, network.KindFlatten, network.KindSpiking} {
		if seen[k] == 0 {
			t.Errorf("no %s layer in any test network", k)
		}
	}
	if graphs < 20 {
		t.Errorf("only %d of the test networks are graphs", graphs)
	}
	t.Logf("layers stored by kind: %v; %d graphs", seen, graphs)
}

// TestGraphDocument checks what a graph file says: a layer of a graph
// whose inputs are not just the layer before it lists them by name, the
// network input as "input"; a chain lists none.
func TestGraphDocument(t *testing.T) {
	net := &network.Network{
		Input: network.Shape{2, 4, 4},
		Layers: []network.Layer{
			&network.Conv2d{LayerName: "stem", InC: 2, OutC: 3, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1,
				Weight: make([]float32, 54), Bias: make([]float32, 3)},
			&network.Spiking{LayerName: "s0", Threshold: []float32{1}, Alpha: 1, Reset: network.ResetSoft},
			&network.Conv2d{LayerName: "c1", InC: 3, OutC: 3, KH: 1, KW: 1, StrideH: 1, StrideW: 1,
				Weight: make([]float32, 9), Bias: make([]float32, 3)},
			&network.Add{LayerName: "sum", Bias: []float32{0.5, -0.25, 1}},
			&network.Spiking{LayerName: "s1", Threshold: []float32{1}, Alpha: 1, Reset: network.ResetSoft},
			&network.AvgPool2d{LayerName: "pool", KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1},
			&network.GlobalAvgPool{LayerName: "gap"},
			&network.Flatten{LayerName: "flat"},
			&network.Linear{LayerName: "fc", In: 3, Out: 2, Weight: make([]float32, 6), Bias: make([]float32, 2)},
		},
		Inputs: [][]int{{network.InputNode}, {0}, {1}, {2, 1}, {3}, {4}, {5}, {6}, {7}},
	}
	if err := net.Validate(); err != nil {
		t.Fatal(err)
	}
	data := encode(t, net)
	doc := document2(t, data)
	want := make([][]string, len(net.Layers))
	want[3] = []string{"c1", "s0"}
	for i, l := range doc["layers"].([]any) {
		got, ok := l.(map[string]any)["inputs"]
		if (want[i] == nil) != !ok || ok && mustJSON(got) != mustJSON(want[i]) {
			t.Errorf("layer %d inputs %v, want %v", i, got, want[i])
		}
	}
	pool := doc["layers"].([]any)[5].(map[string]any)
	if mustJSON(pool["padding"]) != "[1,1]" || pool["count_include_pad"] != false {
		t.Errorf("pool document %v", pool)
	}
	h := split(t, data).hdr
	if mustJSON(tensorEntry(h, "layers.3.bias")["shape"]) != "[3]" {
		t.Errorf("add bias tensor %v", h["layers.3.bias"])
	}
	got, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, net, got)

	// The same graph with explicit inputs that form a chain is stored as
	// a chain, and read back with Inputs == nil.
	chain := testNet(3, true)
	chain.SetInputs()
	data = encode(t, chain)
	if strings.Contains(string(data), `\"inputs\"`) {
		t.Error("a chain lists inputs")
	}
	got, err = Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if got.Inputs != nil {
		t.Errorf("chain read back with inputs %v", got.Inputs)
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// document2 returns the evsnn document of a file as generic JSON.
func document2(t testing.TB, data []byte) map[string]any {
	t.Helper()
	var doc map[string]any
	meta := split(t, data).hdr["__metadata__"].(map[string]any)
	if err := json.Unmarshal([]byte(meta["evsnn"].(string)), &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestExplicitInputs: a file may list the inputs of every layer, even
// where they are the chain default; it reads as the sparse one does.
func TestExplicitInputs(t *testing.T) {
	for seed := uint64(1); seed <= 6; seed++ {
		net := graphNet(seed, snnref.ResNet, false)
		data := encode(t, net)
		full := editDoc(t, data, func(d map[string]any) {
			for i, l := range d["layers"].([]any) {
				ld := l.(map[string]any)
				if _, ok := ld["inputs"]; ok {
					continue
				}
				prev := InputName
				if i > 0 {
					prev = layerDoc(d, i-1)["name"].(string)
				}
				ld["inputs"] = []any{prev}
			}
		})
		got, err := Decode(full)
		if err != nil {
			t.Fatal(err)
		}
		checkSame(t, net, got)
		if again := encode(t, got); !bytes.Equal(again, data) {
			t.Fatal("re-encoding gives different bytes")
		}
	}
}

// TestVersion1Files loads the version 1 files in testdata, written by the
// version 1 encoder (before graphs) from testNet(1, true) and
// testNet(2, false) (so testNet must not change), and checks they give
// those networks bit for bit, and that Encode writes the same bytes again.
func TestVersion1Files(t *testing.T) {
	for _, c := range []struct {
		file string
		net  *network.Network
	}{
		{"v1_snn.evsnn", testNet(1, true)},
		{"v1_ann.evsnn", testNet(2, false)},
	} {
		t.Run(c.file, func(t *testing.T) {
			path := filepath.Join("testdata", c.file)
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if v := document2(t, raw)["version"]; v != 1.0 {
				t.Fatalf("%s has version %v, want a version 1 file", path, v)
			}
			got, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			checkSame(t, c.net, got)
			// A chain of version 1 layers is still written as version 1,
			// byte for byte as the version 1 encoder did.
			if !bytes.Equal(encode(t, got), raw) {
				t.Error("re-encoding does not give the version 1 file back")
			}
		})
	}
	// Version 1 knows neither graphs nor the new layers.
	v1, err := os.ReadFile(filepath.Join("testdata", "v1_snn.evsnn"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		edit func(d map[string]any)
		want string
	}{
		{"inputs", func(d map[string]any) { layerDoc(d, 1)["inputs"] = []any{"conv1"} }, `unknown field "inputs"`},
		{"pool padding", func(d map[string]any) { layerDoc(d, 2)["padding"] = []any{0, 0} }, `unknown field "padding"`},
		{"add", func(d map[string]any) { layerDoc(d, 5)["kind"] = "add" }, `unknown layer kind "add" in a version 1 file`},
	} {
		_, err := Decode(editDoc(t, v1, c.edit))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s in a version 1 file: error %v, want %q", c.name, err, c.want)
		}
	}
}

// fill sets every settable field of v (recursively, through pointers and
// slices) to a value that is not the zero value: floats awkward ones, so
// that metadata fields added later are covered by the round trip without
// touching this test.
func fill(v reflect.Value, r *rand.Rand) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		fill(v.Elem(), r)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), r)
			}
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 3, 3)
		for i := range 3 {
			fill(s.Index(i), r)
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for range 2 {
			k := reflect.New(v.Type().Key()).Elem()
			fill(k, r)
			e := reflect.New(v.Type().Elem()).Elem()
			fill(e, r)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.String:
		v.SetString("s\u2028\"" + string(rune('a'+r.IntN(26))))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(1 + r.IntN(100)))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(math.MaxUint64 >> (64 - v.Type().Bits()))
	case reflect.Float32:
		v.SetFloat(float64(awkward(r, 1)[0]))
	case reflect.Float64:
		v.SetFloat(math.Float64frombits(r.Uint64()&^(0x7ff<<52) | 0x3fe<<52))
	}
}

// TestMetadataRoundTrip fills every field of network.Metadata, whatever
// fields it has, and checks they all come back.
func TestMetadataRoundTrip(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		r := rand.New(rand.NewPCG(seed, 1))
		net := graphNet(seed, snnref.ResNet, false)
		fill(reflect.ValueOf(&net.Meta), r)
		got, err := Decode(encode(t, net))
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		checkSame(t, net, got)
	}
}

func TestEncodeGraphNames(t *testing.T) {
	net := graphNet(1, snnref.ResNet, false)
	net.Layers[1].(*network.Spiking).LayerName = "input"
	err := Encode(&bytes.Buffer{}, net)
	if err == nil || !strings.Contains(err.Error(), `layer 1 (spiking "input")`) || !strings.Contains(err.Error(), "reserved") {
		t.Errorf("a graph with a layer called input: %v", err)
	}
	net = graphNet(1, snnref.ResNet, false)
	net.Layers[1].(*network.Spiking).LayerName = ""
	err = Encode(&bytes.Buffer{}, net)
	if err == nil || !strings.Contains(err.Error(), "layer 1 (spiking)") || !strings.Contains(err.Error(), "needs a name") {
		t.Errorf("a graph with an unnamed producer of a shortcut: %v", err)
	}
	// A producer read only by the layer after it needs no name.
	net = graphNet(1, snnref.ResNet, false)
	net.Layers[0].(*network.Conv2d).LayerName = ""
	got, err := Decode(encode(t, net))
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, net, got)
	// In a chain, names are free.
	chain := testNet(1, true)
	chain.Layers[1].(*network.Spiking).LayerName = "input"
	chain.Layers[2].(*network.AvgPool2d).LayerName = ""
	got, err = Decode(encode(t, chain))
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, chain, got)
}

// TestDecodeBadGraphs breaks a graph file one way at a time; each error
// names the layer.
func TestDecodeBadGraphs(t *testing.T) {
	net := &network.Network{
		Input: network.Shape{2, 4, 4},
		Layers: []network.Layer{
			&network.Conv2d{LayerName: "stem", InC: 2, OutC: 3, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1,
				Weight: make([]float32, 54), Bias: make([]float32, 3)},
			&network.Spiking{LayerName: "s0", Threshold: []float32{1}, Alpha: 1, Reset: network.ResetSoft},
			&network.Conv2d{LayerName: "c1", InC: 3, OutC: 3, KH: 1, KW: 1, StrideH: 1, StrideW: 1,
				Weight: make([]float32, 9), Bias: make([]float32, 3)},
			&network.Add{LayerName: "sum", Bias: []float32{0.5, -0.25, 1}},
			&network.Spiking{LayerName: "s1", Threshold: []float32{1}, Alpha: 1, Reset: network.ResetSoft},
			&network.MaxPool2d{LayerName: "max", KH: 2, KW: 2, StrideH: 2, StrideW: 2},
			&network.AvgPool2d{LayerName: "pool", KH: 2, KW: 2, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, CountIncludePad: true},
			&network.GlobalAvgPool{LayerName: "gap"},
			&network.Flatten{LayerName: "flat"},
			&network.Linear{LayerName: "fc", In: 3, Out: 2, Weight: make([]float32, 6), Bias: make([]float32, 2)},
		},
		Inputs: [][]int{{network.InputNode}, {0}, {1}, {2, 1}, {3}, {4}, {5}, {6}, {7}, {8}},
	}
	if err := net.Validate(); err != nil {
		t.Fatal(err)
	}
	valid := encode(t, net)
	if _, err := Decode(valid); err != nil {
		t.Fatal(err)
	}
	nan := float32(math.NaN())
	cases := []struct {
		name string
		data []byte
		want []string
	}{
		{"unknown input", editDoc(t, valid, func(d map[string]any) { layerDoc(d, 3)["inputs"] = []any{"c1", "ghost"} }),
			[]string{`layer 3 (add "sum")`, `input "ghost" is not the name of an earlier layer`}},
		{"later layer", editDoc(t, valid, func(d map[string]any) { layerDoc(d, 3)["inputs"] = []any{"c1", "s1"} }),
			[]string{`layer 3 (add "sum")`, `input "s1" is not the name of an earlier layer`}},
		{"itself", editDoc(t, valid, func(d map[string]any) { layerDoc(d, 3)["inputs"] = []any{"c1", "sum"} }),
			[]string{`layer 3 (add "sum")`, `input "sum"`}},
		{"empty inputs", editDoc(t, valid, func(d map[string]any) { layerDoc(d, 4)["inputs"] = []any{} }),
			[]string{`layer 4 (spiking "s1")`, "inputs []: want a non-empty list"}},
		{"null inputs", editDoc(t, valid, func(d map[string]any) { layerDoc(d, 4)["inputs"] = nil }),
			[]string{`layer 4 (spiking "s1")`, "inputs null"}},
		{"inputs not names", editDoc(t, valid, func(d map[string]any) { layerDoc(d, 4)["inputs"] = []any{3} }),
			[]string{"layer 4"}},
		{"inputs a string", editDoc(t, valid, func(d map[string]any) { layerDoc(d, 4)["inputs"] = "sum" }),
			[]string{"layer 4"}},
		{"empty name", editDoc(t, valid, func(d map[string]any) { layerDoc(d, 4)["inputs"] = []any{""} }),
			[]string{`layer 4 (spiking "s1")`, `input ""`}},
		{"layer called input", editDoc(t, valid, func(d map[string]any) { layerDoc(d, 8)["name"] = "input" }),
			[]string{`layer 8 (flatten "input")`, "reserved"}},
		{"add of one", editDoc(t, valid, func(d map[string]any) { layerDoc(d, 3)["inputs"] = []any{"c1"} }),
			[]string{`layer 3 (add "sum")`, "has 1 input"}},
		{"two inputs into a conv", editDoc(t, valid, func(d map[string]any) { layerDoc(d, 2)["inputs"] = []any{"s0", "stem"} }),
			[]string{`layer 2 (conv2d "c1")`, "has 2 inputs"}},
		{"add of different shapes", editDoc(t, valid, func(d map[string]any) { layerDoc(d, 3)["inputs"] = []any{"c1", "input"} }),
			[]string{`layer 3 (add "sum")`, "one shape"}},
		{"dangling layer", editDoc(t, valid, func(d map[string]any) { layerDoc(d, 6)["inputs"] = []any{"s1"} }),
			[]string{`layer 5 (maxpool2d "max")`, "not used"}},
		{"maxpool after conv", editDoc(t, valid, func(d map[string]any) {
			layerDoc(d, 3)["inputs"] = []any{"c1", "s0"}
			layerDoc(d, 5)["inputs"] = []any{"stem"}
		}), []string{"maxpool2d"}},
		{"count_include_pad missing", editDoc(t, valid, func(d map[string]any) { delete(layerDoc(d, 6), "count_include_pad") }),
			[]string{`layer 6 (avgpool2d "pool")`, `missing field "count_include_pad"`}},
		{"count_include_pad null", editDoc(t, valid, func(d map[string]any) { layerDoc(d, 6)["count_include_pad"] = nil }),
			[]string{`layer 6 (avgpool2d "pool")`, "count_include_pad is null"}},
		{"count_include_pad string", editDoc(t, valid, func(d map[string]any) { layerDoc(d, 6)["count_include_pad"] = "yes" }),
			[]string{`layer 6 (avgpool2d "pool")`}},
		{"pool padding too large", editDoc(t, valid, func(d map[string]any) { layerDoc(d, 6)["padding"] = []any{2, 1} }),
			[]string{`layer 6 (avgpool2d "pool")`, "padding 2x1 is not valid"}},
		{"maxpool padding missing", editDoc(t, valid, func(d map[string]any) { delete(layerDoc(d, 5), "padding") }),
			[]string{`layer 5 (maxpool2d "max")`, `missing field "padding"`}},
		{"maxpool kernel of one value", editDoc(t, valid, func(d map[string]any) { layerDoc(d, 5)["kernel"] = []any{2} }),
			[]string{`layer 5 (maxpool2d "max")`, "kernel has 1 values"}},
		{"maxpool huge kernel", editDoc(t, valid, func(d map[string]any) { layerDoc(d, 5)["kernel"] = []any{float64(1 << 40), 2} }),
			[]string{`layer 5 (maxpool2d "max")`, "kernel"}},
		{"fields of another kind", editDoc(t, valid, func(d map[string]any) { layerDoc(d, 6)["kind"] = "maxpool2d" }),
			[]string{`layer 6 (maxpool2d "pool")`, `unknown field "count_include_pad"`}},
		{"version 1 graph", editDoc(t, valid, func(d map[string]any) { d["version"] = 1 }),
			[]string{`unknown layer kind "add" in a version 1 file`}},
		{"gap with a field", editDoc(t, valid, func(d map[string]any) { layerDoc(d, 7)["kernel"] = []any{2, 2} }),
			[]string{`layer 7 (globalavgpool "gap")`, `unknown field "kernel"`}},
		{"add bias wrong size", rebuild(t, valid, func(h map[string]any, d *[]byte) { resize(h, d, "layers.3.bias", 2) }),
			[]string{`layer 3`, "2 bias values for 3 channels"}},
		{"add bias matrix", rebuild(t, valid, func(h map[string]any, _ *[]byte) { tensorEntry(h, "layers.3.bias")["shape"] = []any{1, 3} }),
			[]string{`layer 3 (add "sum")`, `tensor "layers.3.bias" has shape [1 3]`}},
		{"add bias NaN", rebuild(t, valid, func(h map[string]any, d *[]byte) { putFloat(h, *d, "layers.3.bias", 1, nan) }),
			[]string{`layer 3 (add "sum")`, `tensor "layers.3.bias": element 1 is NaN`}},
		{"bias on a gap", rebuild(t, valid, func(h map[string]any, d *[]byte) {
			h["layers.7.bias"] = map[string]any{"dtype": "F32", "shape": []any{1}, "data_offsets": []any{len(*d), len(*d) + 4}}
			*d = append(*d, 0, 0, 128, 63)
		}), []string{`tensor "layers.7.bias" belongs to no layer`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			net, err := Decode(c.data)
			if err == nil {
				t.Fatalf("decoded a bad file: %d layers", len(net.Layers))
			}
			t.Log(err)
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error does not wrap ErrInvalid: %v", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error of more than one line: %q", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestFileVersion: Encode writes version 1 for what version 1 holds,
// version 3 for networks with a SparseLinear, and version 2 for the other
// graphs and the layers and fields version 1 lacks.
func TestFileVersion(t *testing.T) {
	pad := testNet(1, true)
	pad.Layers[2].(*network.AvgPool2d).PadH = 1
	pad.Layers[2].(*network.AvgPool2d).KH = 3
	cip := testNet(1, false)
	cip.Layers[2].(*network.AvgPool2d).CountIncludePad = true
	explicit := testNet(1, true)
	explicit.SetInputs()
	for _, c := range []struct {
		name string
		net  *network.Network
		want int
	}{
		{"chain", testNet(1, true), 1},
		{"chain with explicit inputs", explicit, 1},
		{"padded average pool", pad, 2},
		{"count_include_pad", cip, 2},
		{"residual graph", graphNet(1, snnref.ResNet, false), 2},
		{"VGG chain with max pools", graphNet(1, snnref.VGG, false), 2},
		{"chain with a sparse projection", sparseNet(1, snnref.Chain, false), 3},
		{"graph with a sparse projection", sparseNet(1, snnref.ResNet, false), 3},
	} {
		if err := c.net.Validate(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := FileVersion(c.net); got != c.want {
			t.Errorf("%s: version %d, want %d", c.name, got, c.want)
		}
		data := encode(t, c.net)
		if v := document2(t, data)["version"]; v != float64(c.want) {
			t.Errorf("%s: file says version %v", c.name, v)
		}
		got, err := Decode(data)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		c.net.Compact()
		checkSame(t, c.net, got)
	}
}
