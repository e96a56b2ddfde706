package spikes

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/evsnn/evsnn/network"
)

// FuzzReader feeds Open arbitrary bytes, as they are and with their CRCs
// repaired (so that the checks behind the CRCs are reached), and reads
// everything of what opens: no input may panic, and errors are one line
// naming the file (exercise).
func FuzzReader(f *testing.F) {
	// Small seeds (the fuzzer's speed falls with the input's size) with
	// array, run and bitmap containers and a layer in blocks of steps.
	for i, specs := range [][]layerSpec{
		{{[]int{2, 3, 3}, 0.3}, {[]int{5}, 0.5}},
		{{[]int{10}, 1}},
		{{[]int{8, 32, 32}, 0.5}},
		{{[]int{1 << 30}, 0.5}},
	} {
		T := 4
		if i == 2 {
			T = 1
		}
		tr := newTestRun(uint64(i), T, 2, specs...)
		f.Add(readFile(f, tr.write(f, 1, 0)))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		exercise(t, data)
		exercise(t, fixCRCs(bytes.Clone(data)))
	})
}

// FuzzPortable checks the portable-format validator against roaring: what
// it accepts, roaring reads to the same cardinality and maximum, and
// roaring's own validation agrees.
func FuzzPortable(f *testing.F) {
	for _, ids := range [][]uint32{nil, {1, 5, 70000}, {0, 1, 2, 3, 4, 5, 100, 101, 102}} {
		bm := roaring.BitmapOf(ids...)
		bm.RunOptimize()
		b, _ := bm.ToBytes()
		f.Add(b)
	}
	dense := roaring.New()
	dense.AddRange(10, 9000)
	b, _ := dense.ToBytes()
	f.Add(b)
	f.Fuzz(func(t *testing.T, blob []byte) {
		card, mx, err := checkPortable(blob)
		if err != nil {
			return
		}
		bm := roaring.New()
		n, err := bm.FromBuffer(bytes.Clone(blob))
		if err != nil || n != int64(len(blob)) {
			t.Fatalf("checkPortable accepts what roaring reads as %d of %d bytes: %v", n, len(blob), err)
		}
		if err := bm.Validate(); err != nil {
			t.Fatalf("checkPortable accepts what roaring finds invalid: %v", err)
		}
		if bm.GetCardinality() != card || card > 0 && bm.Maximum() != mx {
			t.Fatalf("cardinality %d, max %d; roaring %d, %d", card, mx, bm.GetCardinality(), bm.Maximum())
		}
	})
}

// FuzzDense checks the writer's serializer against roaring's: for any
// set of bits, appendDense writes the bytes of FromDense, RunOptimize and
// WriteTo. The input's bytes are spread over 3 containers (ids up to
// 3·2¹⁶) by repeating them, so that arrays, bitmaps and runs all occur.
func FuzzDense(f *testing.F) {
	f.Add([]byte{0xff, 0x00, 0x0f}, uint8(0))
	f.Add(bytes.Repeat([]byte{0xff}, 40), uint8(3))
	f.Add([]byte{0x55, 0xaa, 0x01, 0x80}, uint8(200))
	f.Fuzz(func(t *testing.T, pattern []byte, stride uint8) {
		if len(pattern) == 0 {
			return
		}
		words := make([]uint64, 3*1024-int(stride)%7)
		for i := range words {
			// Repeat the pattern with a stride, leaving gaps.
			if (i/(int(stride)+1))%2 == 0 {
				for b := range 8 {
					words[i] |= uint64(pattern[(8*i+b)%len(pattern)]) << (8 * b)
				}
			}
		}
		var e encoder
		got, card := e.appendDense(nil, words, nil)
		bm := roaring.FromDense(words, true)
		bm.RunOptimize()
		want, err := bm.ToBytes()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) || uint64(card) != bm.GetCardinality() {
			t.Fatalf("appendDense writes %d bytes and %d ids, roaring %d and %d (or different ones)", len(got), card, len(want), bm.GetCardinality())
		}
		// With dirty marks: the containers with bits, and one without.
		dirty := []uint64{1 << 2}
		for key := range 3 {
			for _, x := range words[key*1024 : min(len(words), (key+1)*1024)] {
				if x != 0 {
					dirty[0] |= 1 << key
				}
			}
		}
		if marked, n := e.appendDense(nil, words, dirty); !bytes.Equal(marked, want) || n != card {
			t.Fatalf("with dirty marks %b appendDense writes %d bytes and %d ids, without %d and %d", dirty[0], len(marked), n, len(got), card)
		}
	})
}

// FuzzAddRaster gives the writer arbitrary rasters: it must refuse what
// is out of range or out of order, and what it takes must read back the
// same.
func FuzzAddRaster(f *testing.F) {
	f.Add([]byte{0, 1, 5, 0, 2, 7, 1, 2, 3})
	f.Add([]byte{0, 1, 5, 0, 1, 5})
	f.Add([]byte{1, 0, 0})
	f.Fuzz(func(t *testing.T, p []byte) {
		// A [3,4,5] layer and one of 7 neurons over T = 5 steps; each
		// event is 3 bytes: layer, step, neuron (a few out of range).
		h := Header{T: 5, Images: 1, Layers: []Layer{{Name: "c", Shape: []int{3, 4, 5}}, {Name: "d", Shape: []int{7}}}}
		var ev []network.RasterEvent
		for i := 0; i+3 <= len(p); i += 3 {
			ev = append(ev, network.RasterEvent{Layer: int32(p[i] % 3), Step: int32(p[i+1] % 7), Neuron: int32(p[i+2] % 64)})
		}
		valid := true
		for i, e := range ev {
			inRange := e.Layer < 2 && e.Step >= 1 && e.Step <= 5 && e.Neuron < []int32{60, 7}[min(e.Layer, 1)]
			ordered := i == 0 || ev[i-1].Step < e.Step || ev[i-1].Step == e.Step && (ev[i-1].Layer < e.Layer || ev[i-1].Layer == e.Layer && ev[i-1].Neuron < e.Neuron)
			valid = valid && inRange && ordered
		}
		path := filepath.Join(t.TempDir(), "f.spikes")
		w, err := Create(path, h)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.AddRaster(0, ev); err != nil {
			w.Abort()
			if valid {
				t.Fatalf("valid raster refused: %v", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("a multi-line error: %q", err)
			}
			return
		}
		if !valid {
			t.Fatalf("invalid raster %v taken", ev)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		r, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		back, err := r.Raster(0)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(back, ev) && len(ev) > 0 {
			t.Fatalf("wrote %v, read %v", ev, back)
		}
	})
}
