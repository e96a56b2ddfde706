package modelfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/network"
)

// fuzzSeeds are valid files of every shape the format holds: chains (SNN
// and ANN), residual and VGG-like graphs with every layer kind, networks
// with sparse projections (version 3), a tiny vector network, and the
// version 1 files of testdata.
func fuzzSeeds(f *testing.F) [][]byte {
	var seeds [][]byte
	for seed := uint64(1); seed <= 3; seed++ {
		seeds = append(seeds, encode(f, testNet(seed, false)), encode(f, testNet(seed, true)))
	}
	for seed := uint64(1); seed <= 4; seed++ {
		seeds = append(seeds, encode(f, graphNet(seed, snnref.ResNet, seed == 3)), encode(f, graphNet(seed, snnref.VGG, seed == 4)))
	}
	seeds = append(seeds, encode(f, sparseNet(1, snnref.MLP, false)), encode(f, sparseNet(2, snnref.ResNet, true)))
	small := &network.Network{Input: network.Shape{2}, Layers: []network.Layer{
		&network.Linear{LayerName: "fc", In: 2, Out: 1, Weight: []float32{1, -0.5}, Bias: []float32{0.25}},
		&network.Spiking{LayerName: "s", Threshold: []float32{1}, Alpha: 0.5, Reset: network.ResetHard, V0Fraction: 0.5, V0: []float32{0.125}},
		&network.Flatten{},
		&network.Linear{LayerName: "out", In: 1, Out: 2, Weight: []float32{1, 2}, Bias: []float32{0, 0}},
	}}
	seeds = append(seeds, encode(f, small))
	for _, name := range []string{"v1_snn.evsnn", "v1_ann.evsnn"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, data)
	}
	return seeds
}

// FuzzDecode feeds Decode arbitrary bytes, seeded with valid files (graphs
// among them). Decode must never panic; an error must wrap ErrInvalid; a
// network it accepts must validate and survive another encode/decode bit
// for bit.
func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Add([]byte{})
	f.Add([]byte("\x02\x00\x00\x00\x00\x00\x00\x00{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		net, err := Decode(data)
		if err != nil {
			if net != nil {
				t.Fatal("network and error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		if err := net.Validate(); err != nil {
			t.Fatalf("Decode returned an invalid network: %v", err)
		}
		var buf bytes.Buffer
		if err := Encode(&buf, net); err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		again, err := Decode(buf.Bytes())
		if err != nil {
			t.Fatalf("decode of re-encoded network: %v", err)
		}
		if err := bitsEqual(reflect.ValueOf(net), reflect.ValueOf(again), "net"); err != nil {
			t.Fatalf("second round trip differs: %v", err)
		}
		if !IsModelFile(buf.Bytes()) {
			t.Fatal("re-encoded file not sniffed as a model file")
		}
	})
}

// FuzzDecodeDocument fuzzes the evsnn document alone: the tensors of a
// valid SNN stay as they are and the fuzzer edits the JSON that describes
// the layers and their inputs, which random byte flips of a whole file
// rarely reach.
func FuzzDecodeDocument(f *testing.F) {
	type base struct {
		f   file
		doc string
	}
	var bases []base
	for _, data := range [][]byte{encode(f, testNet(1, true)), encode(f, graphNet(2, snnref.ResNet, false)), encode(f, graphNet(1, snnref.VGG, false)), encode(f, sparseNet(3, snnref.Chain, false))} {
		b := split(f, data)
		bases = append(bases, base{b, b.hdr["__metadata__"].(map[string]any)["evsnn"].(string)})
	}
	chain, resnet := bases[0].doc, bases[1].doc
	for k, b := range bases {
		f.Add(uint8(k), b.doc)
	}
	f.Add(uint8(0), strings.Replace(chain, `"kind":"spiking"`, `"kind":"relu"`, 1))
	f.Add(uint8(0), strings.Replace(chain, `"stride":[2,1]`, `"stride":[1,1]`, 1))
	f.Add(uint8(0), strings.Replace(chain, `"version":1`, `"version":2`, 1))
	f.Add(uint8(1), strings.Replace(resnet, `"kind":"add"`, `"kind":"flatten"`, 1))
	f.Add(uint8(1), strings.Replace(resnet, `"inputs":["conv3","maxpool1"]`, `"inputs":["conv3","maxpool1","input"]`, 1))
	f.Add(uint8(1), strings.Replace(resnet, `"inputs":["conv3","maxpool1"]`, `"inputs":["maxpool1","sp2"]`, 1))
	f.Add(uint8(1), strings.Replace(resnet, `"name":"conv2",`, `"name":"conv2","inputs":["sp1"],`, 1))
	f.Add(uint8(0), `{"format":"evsnn-model","version":2,"input":[1,8,8],"layers":[],"meta":{}}`)
	f.Fuzz(func(t *testing.T, which uint8, doc string) {
		b := bases[int(which)%len(bases)].f
		b.hdr["__metadata__"] = map[string]any{"evsnn": doc}
		net, err := Decode(b.bytes(t))
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		again, err := Decode(encode(t, net))
		if err != nil {
			t.Fatalf("decode of re-encoded network: %v", err)
		}
		if err := bitsEqual(reflect.ValueOf(net), reflect.ValueOf(again), "net"); err != nil {
			t.Fatalf("second round trip differs: %v", err)
		}
	})
}
