package modelfile

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// Taking model files apart and putting them back together, to break them
// in tests one way at a time.

// file is a model file taken apart for editing.
type file struct {
	hdr  map[string]any
	data []byte
}

func split(t testing.TB, raw []byte) file {
	t.Helper()
	n := binary.LittleEndian.Uint64(raw)
	var hdr map[string]any
	if err := json.Unmarshal(raw[8:8+n], &hdr); err != nil {
		t.Fatal(err)
	}
	return file{hdr, append([]byte(nil), raw[8+n:]...)}
}

func (f file) bytes(t testing.TB) []byte {
	t.Helper()
	h, err := json.Marshal(f.hdr)
	if err != nil {
		t.Fatal(err)
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	out = append(out, h...)
	return append(out, f.data...)
}

// rebuild edits the header (as generic JSON) and data of a valid file.
func rebuild(t testing.TB, raw []byte, edit func(h map[string]any, data *[]byte)) []byte {
	t.Helper()
	f := split(t, raw)
	edit(f.hdr, &f.data)
	return f.bytes(t)
}

// editDoc edits the evsnn document of a valid file.
func editDoc(t testing.TB, raw []byte, edit func(doc map[string]any)) []byte {
	t.Helper()
	return rebuild(t, raw, func(h map[string]any, _ *[]byte) {
		meta := h["__metadata__"].(map[string]any)
		var doc map[string]any
		dec := json.NewDecoder(strings.NewReader(meta["evsnn"].(string)))
		dec.UseNumber() // keep uint64 seeds exact
		if err := dec.Decode(&doc); err != nil {
			t.Fatal(err)
		}
		edit(doc)
		b, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		meta["evsnn"] = string(b)
	})
}

func layerDoc(doc map[string]any, i int) map[string]any {
	return doc["layers"].([]any)[i].(map[string]any)
}

func tensorEntry(h map[string]any, name string) map[string]any {
	return h[name].(map[string]any)
}

// putFloat overwrites element k of a tensor in the data section.
func putFloat(h map[string]any, data []byte, name string, k int, v float32) {
	begin := int(tensorEntry(h, name)["data_offsets"].([]any)[0].(float64))
	binary.LittleEndian.PutUint32(data[begin+4*k:], math.Float32bits(v))
}

// resize gives tensor name count elements (shape [count], each 1.0),
// moving the tensors after it so that the data stays contiguous.
func resize(h map[string]any, d *[]byte, name string, count int) {
	e := tensorEntry(h, name)
	o := e["data_offsets"].([]any)
	begin, end := int(o[0].(float64)), int(o[1].(float64))
	delta := begin + 4*count - end
	for k, v := range h {
		if k == "__metadata__" || k == name {
			continue
		}
		oo := v.(map[string]any)["data_offsets"].([]any)
		if int(oo[0].(float64)) >= end {
			oo[0], oo[1] = oo[0].(float64)+float64(delta), oo[1].(float64)+float64(delta)
		}
	}
	e["shape"] = []any{count}
	e["data_offsets"] = []any{begin, begin + 4*count}
	var mid []byte
	for range count {
		mid = binary.LittleEndian.AppendUint32(mid, math.Float32bits(1))
	}
	*d = append(append(append([]byte(nil), (*d)[:begin]...), mid...), (*d)[end:]...)
}
