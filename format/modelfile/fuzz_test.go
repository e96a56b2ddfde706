package modelfile

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/network"
)

// FuzzDecode feeds Decode arbitrary bytes, seeded with valid files. Decode
// must never panic; an error must wrap ErrInvalid; a network it accepts
// must validate and survive another encode/decode bit for bit.
func FuzzDecode(f *testing.F) {
	for seed := uint64(1); seed <= 3; seed++ {
		f.Add(encode(f, testNet(seed, false)))
		f.Add(encode(f, testNet(seed, true)))
	}
	small := &network.Network{Input: network.Shape{2}, Layers: []network.Layer{
		&network.Linear{LayerName: "fc", In: 2, Out: 1, Weight: []float32{1, -0.5}, Bias: []float32{0.25}},
		&network.Spiking{LayerName: "s", Threshold: []float32{1}, Alpha: 0.5, Reset: network.ResetHard, V0Fraction: 0.5, V0: []float32{0.125}},
		&network.Flatten{},
		&network.Linear{LayerName: "out", In: 1, Out: 2, Weight: []float32{1, 2}, Bias: []float32{0, 0}},
	}}
	f.Add(encode(f, small))
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
// the layers, which random byte flips of a whole file rarely reach.
func FuzzDecodeDocument(f *testing.F) {
	valid := encode(f, testNet(1, true))
	base := split(f, valid)
	doc := base.hdr["__metadata__"].(map[string]any)["evsnn"].(string)
	f.Add(doc)
	f.Add(strings.Replace(doc, `"kind":"spiking"`, `"kind":"relu"`, 1))
	f.Add(strings.Replace(doc, `"stride":[2,1]`, `"stride":[1,1]`, 1))
	f.Add(`{"format":"evsnn-model","version":1,"input":[1,8,8],"layers":[],"meta":{}}`)
	f.Fuzz(func(t *testing.T, doc string) {
		base.hdr["__metadata__"] = map[string]any{"evsnn": doc}
		net, err := Decode(base.bytes(t))
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
