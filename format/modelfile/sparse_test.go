package modelfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/network"
)

// sparseNet is graphNet with every Linear layer pruned to about a third of
// its weights and stored as a SparseLinear, with awkward weights (−0 and
// an explicit +0 synapse included) and, in the first, an input without
// synapses.
func sparseNet(seed uint64, kind snnref.Kind, ann bool) *network.Network {
	net := graphNet(seed, kind, ann)
	r := rand.New(rand.NewPCG(seed, 99))
	first := true
	for i, l := range net.Layers {
		lin, ok := l.(*network.Linear)
		if !ok {
			continue
		}
		for k := range lin.Weight {
			if r.IntN(3) > 0 || (first && k%lin.In == 0) {
				lin.Weight[k] = 0
			}
		}
		sp := network.Sparsify(lin)
		if n := len(sp.Weights); n >= 2 {
			sp.Weights[0] = float32(math.Copysign(0, -1))
			sp.Weights[n-1] = 0
		}
		net.Layers[i] = sp
		first = false
	}
	return net
}

// TestSparseRoundTrip: networks with SparseLinear layers (chains, graphs,
// ANNs and SNNs) are written as version 3 files and read back bit for bit,
// and re-encoding gives the same bytes.
func TestSparseRoundTrip(t *testing.T) {
	nets := []*network.Network{}
	for seed := uint64(1); seed <= 4; seed++ {
		for _, kind := range snnref.Kinds {
			nets = append(nets, sparseNet(seed, kind, seed%2 == 0))
		}
	}
	for k, net := range nets {
		if err := net.Validate(); err != nil {
			t.Fatalf("network %d: %v", k, err)
		}
		if !hasKind(net, network.KindSparseLinear) {
			t.Fatalf("network %d has no SparseLinear", k)
		}
		if v := FileVersion(net); v != 3 {
			t.Fatalf("network %d: version %d, want 3", k, v)
		}
		data := encode(t, net)
		if v := document2(t, data)["version"]; v != 3.0 {
			t.Fatalf("network %d: file says version %v", k, v)
		}
		got, err := Decode(data)
		if err != nil {
			t.Fatalf("network %d: %v", k, err)
		}
		net.Compact()
		checkSame(t, net, got)
		if !bytes.Equal(encode(t, got), data) {
			t.Fatalf("network %d: re-encoding gives different bytes", k)
		}
	}
}

// putInt overwrites element k of a tensor in the data section.
func putInt(h map[string]any, data []byte, name string, k int, v int32) {
	begin := int(tensorEntry(h, name)["data_offsets"].([]any)[0].(float64))
	binary.LittleEndian.PutUint32(data[begin+4*k:], uint32(v))
}

// sparseIndex is the index of the first SparseLinear layer of net and the
// layer.
func sparseIndex(t *testing.T, net *network.Network) (int, *network.SparseLinear) {
	for i, l := range net.Layers {
		if sp, ok := l.(*network.SparseLinear); ok && len(sp.Weights) >= 3 {
			return i, sp
		}
	}
	t.Fatal("no SparseLinear with 3 synapses")
	return 0, nil
}

// TestSparseBad: malformed synapse lists and tensors are refused with one
// line naming the layer and the tensor.
func TestSparseBad(t *testing.T) {
	net := sparseNet(1, snnref.MLP, false)
	valid := encode(t, net)
	i, sp := sparseIndex(t, net)
	name := func(p string) string { return TensorName(i, p) }
	where := `layer ` + strconv.Itoa(i) + ` (sparselinear "` + sp.LayerName + `")`
	// An input with at least two synapses, for the order checks.
	two := -1
	for j := range sp.In {
		if sp.Ptr[j+1]-sp.Ptr[j] >= 2 {
			two = j
			break
		}
	}
	if two < 0 {
		t.Fatal("no input with two synapses")
	}
	at := int(sp.Ptr[two])
	cases := []struct {
		name string
		data []byte
		want []string
	}{
		{"indptr not from 0", rebuild(t, valid, func(h map[string]any, d *[]byte) { putInt(h, *d, name("indptr"), 0, 1) }),
			[]string{where, name("indptr"), "starts at 1"}},
		{"indptr end", rebuild(t, valid, func(h map[string]any, d *[]byte) { putInt(h, *d, name("indptr"), sp.In, int32(len(sp.Weights)-1)) }),
			[]string{where, name("indptr"), "ends at"}},
		{"indptr decreasing", rebuild(t, valid, func(h map[string]any, d *[]byte) { putInt(h, *d, name("indptr"), 1, int32(len(sp.Weights)+7)) }),
			[]string{where, name("indptr"), "offset"}},
		{"indptr negative", rebuild(t, valid, func(h map[string]any, d *[]byte) { putInt(h, *d, name("indptr"), 1, -4) }),
			[]string{where, name("indptr"), "offset -4"}},
		{"target out of range", rebuild(t, valid, func(h map[string]any, d *[]byte) { putInt(h, *d, name("indices"), at, int32(sp.Out)) }),
			[]string{where, name("indices"), "outside [0,"}},
		{"target negative", rebuild(t, valid, func(h map[string]any, d *[]byte) { putInt(h, *d, name("indices"), at, math.MinInt32) }),
			[]string{where, name("indices"), "outside [0,"}},
		{"targets not increasing", rebuild(t, valid, func(h map[string]any, d *[]byte) {
			putInt(h, *d, name("indices"), at+1, sp.Targets[at])
		}), []string{where, name("indices"), "not increasing"}},
		{"weight NaN", rebuild(t, valid, func(h map[string]any, d *[]byte) { putFloat(h, *d, name("data"), 1, float32(math.NaN())) }),
			[]string{where, name("data"), "element 1 is NaN"}},
		{"indices as F32", rebuild(t, valid, func(h map[string]any, _ *[]byte) { tensorEntry(h, name("indices"))["dtype"] = "F32" }),
			[]string{where, name("indices"), "dtype F32, want I32"}},
		{"data as I32", rebuild(t, valid, func(h map[string]any, _ *[]byte) { tensorEntry(h, name("data"))["dtype"] = "I32" }),
			[]string{where, name("data"), "dtype I32, want F32"}},
		{"I64 indices", rebuild(t, valid, func(h map[string]any, _ *[]byte) { tensorEntry(h, name("indices"))["dtype"] = "I64" }),
			[]string{name("indices"), `dtype "I64"`}},
		{"indptr short", rebuild(t, valid, func(h map[string]any, _ *[]byte) {
			e := tensorEntry(h, name("indptr"))
			e["shape"] = []any{2, sp.In/2 + 1}
		}), []string{name("indptr")}},
		{"data and indices differ", rebuild(t, valid, func(h map[string]any, d *[]byte) { resize(h, d, name("data"), len(sp.Weights)-1) }),
			[]string{where, name("data"), "has shape"}},
		{"indices missing", rebuild(t, valid, func(h map[string]any, _ *[]byte) { h[name("idx")] = h[name("indices")]; delete(h, name("indices")) }),
			[]string{where, name("indices") + `" is missing`}},
		{"version 2", editDoc(t, valid, func(d map[string]any) { d["version"] = 2 }),
			[]string{`unknown layer kind "sparselinear" in a version 2 file`}},
		{"weight field", editDoc(t, valid, func(d map[string]any) { layerDoc(d, i)["synapses"] = 3 }),
			[]string{where, `unknown field "synapses"`}},
		{"no out_features", editDoc(t, valid, func(d map[string]any) { delete(layerDoc(d, i), "out_features") }),
			[]string{where, `missing field "out_features"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Decode(c.data)
			if err == nil {
				t.Fatalf("decoded a bad file: %d layers", len(got.Layers))
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
