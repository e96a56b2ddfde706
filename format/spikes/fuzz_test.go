package spikes

import (
	"bytes"
	"encoding/binary"
	"path/filepath"
	"slices"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
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
		got := e.appendDense(nil, words)
		bm := roaring.FromDense(words, true)
		bm.RunOptimize()
		want, err := bm.ToBytes()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("appendDense writes %d bytes, roaring %d (or different ones)", len(got), len(want))
		}
	})
}

// FuzzAdd gives the writer arbitrary id lists: it must refuse what is not
// increasing or out of range, and what it takes must read back the same.
func FuzzAdd(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 5, 0, 0, 0}, []byte{1, 0, 0, 0})
	f.Add([]byte{9, 0, 0, 0, 3, 0, 0, 0}, []byte{})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		toIDs := func(p []byte) []uint32 {
			ids := make([]uint32, len(p)/4)
			for i := range ids {
				ids[i] = binary.LittleEndian.Uint32(p[4*i:]) % 400
			}
			return ids
		}
		// 3×4×5 = 60 neurons over T = 5 steps (300 ids); a layer of 7
		// neurons (35 ids).
		h := Header{T: 5, Images: 1, Layers: []Layer{{Name: "c", Shape: []int{3, 4, 5}}, {Name: "d", Shape: []int{7}}}}
		path := filepath.Join(t.TempDir(), "f.spikes")
		w, err := Create(path, h)
		if err != nil {
			t.Fatal(err)
		}
		ids := [][]uint32{toIDs(a), toIDs(b)}
		if err := w.Add(0, ids); err != nil {
			w.Abort()
			valid := true
			for s, l := range ids {
				valid = valid && slices.IsSorted(l) && len(slices.Compact(slices.Clone(l))) == len(l) && (len(l) == 0 || l[len(l)-1] < []uint32{300, 35}[s])
			}
			if valid {
				t.Fatalf("valid ids refused: %v", err)
			}
			return
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		r, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		hh := r.Header()
		for k, l := range ids {
			ev, err := r.Spikes(0, k)
			if err != nil {
				t.Fatal(err)
			}
			back, err := r.Layout().IDs(nil, ev)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(back[k], l) && len(l) > 0 {
				t.Fatalf("layer %d (%v): wrote %v, read %v", k, hh.Layers[k].Shape, l, back[k])
			}
		}
	})
}
