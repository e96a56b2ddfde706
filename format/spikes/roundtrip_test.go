package spikes

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/network"
)

// The recordings the round-trip tests write: small conv and dense layers
// (densities that make array, bitmap and run containers), layers whose
// ids fill exactly 2³² (one block) and fake huge layers split into blocks
// of steps (nothing of size N is allocated for them).
var roundTrips = []struct {
	name           string
	T, images      int
	specs          []layerSpec
	blocksPerLayer []int
}{
	{"conv+dense", 8, 5, []layerSpec{{[]int{3, 5, 7}, 0.2}, {[]int{8, 16, 16}, 0.05}, {[]int{40}, 0.5}}, []int{1, 1, 1}},
	{"dense bitmaps", 4, 3, []layerSpec{{[]int{16, 64, 64}, 0.4}, {[]int{10}, 1}}, []int{1, 1}},
	{"silent", 3, 2, []layerSpec{{[]int{4, 4, 4}, 0}}, []int{1}},
	{"T·N = 2^32", 16, 2, []layerSpec{{[]int{1 << 28}, 0.5}}, []int{1}},
	{"huge, blocks", 10, 3, []layerSpec{{[]int{1 << 30}, 0.6}, {[]int{64, 4096, 4096}, 0.6}, {[]int{2, 3}, 0.5}}, []int{3, 3, 1}},
	{"short last block", 5, 2, []layerSpec{{[]int{3 << 29}, 0.7}}, []int{3}},
	{"no images", 5, 0, []layerSpec{{[]int{6}, 0.5}}, []int{1}},
}

func TestRoundTrip(t *testing.T) {
	for i, c := range roundTrips {
		t.Run(c.name, func(t *testing.T) {
			tr := newTestRun(uint64(i), c.T, c.images, c.specs...)
			path := tr.write(t, 1, 0)
			r, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			h := r.Header()
			if h.T != c.T || h.Images != c.images || h.Engine != "test" || h.Provenance["seed"] != "x" || h.IDOrder != IDOrder {
				t.Fatalf("header %+v", h)
			}
			for k, want := range c.blocksPerLayer {
				if got := len(r.Layout().LayerSlots(k)); got != want {
					t.Errorf("layer %d: %d blocks, want %d", k, got, want)
				}
			}
			byStep := make([][]int64, len(h.Layers))
			for k := range byStep {
				byStep[k] = make([]int64, c.T)
			}
			for img, raster := range tr.rasters {
				got, err := r.Raster(img)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, raster) {
					t.Fatalf("image %d: raster of %d events, want %d", img, len(got), len(raster))
				}
				for k := range h.Layers {
					blocks, err := r.Blocks(img, k)
					if err != nil {
						t.Fatal(err)
					}
					for _, b := range blocks {
						want := storageIDs(&h, raster, k, b.FirstStep, b.Steps)
						if ids := b.Bitmap.ToArray(); !slices.Equal(ids, want) && !(len(ids) == 0 && len(want) == 0) {
							t.Fatalf("image %d layer %d block at step %d: ids differ from the documented layout", img, k, b.FirstStep)
						}
					}
					sp, err := r.Spikes(img, k)
					if err != nil {
						t.Fatal(err)
					}
					var want []network.RasterEvent
					for _, e := range raster {
						if int(e.Layer) == k {
							want = append(want, e)
							byStep[k][e.Step-1]++
						}
					}
					if !slices.Equal(sp, want) {
						t.Fatalf("image %d layer %d: Spikes differ", img, k)
					}
				}
			}
			s, err := r.Summary()
			if err != nil {
				t.Fatal(err)
			}
			for k, ls := range s.Layers {
				if !slices.Equal(ls.SpikesByStep, byStep[k]) {
					t.Errorf("layer %d: SpikesByStep %v, want %v", k, ls.SpikesByStep, byStep[k])
				}
			}
			if st, _ := os.Stat(path); s.Bytes != st.Size() {
				t.Errorf("summary bytes %d, file %d", s.Bytes, st.Size())
			}
		})
	}
}

// TestSameFileAnyWorkers writes one recording in order from one goroutine
// and shuffled from several: the files must be identical.
func TestSameFileAnyWorkers(t *testing.T) {
	tr := newTestRun(3, 6, 24, layerSpec{[]int{4, 6, 6}, 0.1}, layerSpec{[]int{12}, 0.3})
	want := readFile(t, tr.write(t, 1, 0))
	for _, workers := range []int{2, 4, 8} {
		if got := readFile(t, tr.write(t, workers, uint64(workers))); !bytes.Equal(got, want) {
			t.Errorf("%d workers: the file differs", workers)
		}
	}
}

// TestDenseSparseSame checks that both encoder paths serialize alike.
func TestDenseSparseSame(t *testing.T) {
	tr := newTestRun(5, 8, 4, layerSpec{[]int{16, 32, 32}, 0.3}, layerSpec{[]int{8, 8, 8}, 0.02}, layerSpec{[]int{50}, 0.9})
	lay, err := NewLayout(tr.hdr.Layers, tr.hdr.T)
	if err != nil {
		t.Fatal(err)
	}
	dense, sparse := newEncoder(lay), newEncoder(lay)
	sparse.sparse = true
	for i, raster := range tr.rasters {
		set := mustSet(t, lay, raster)
		a, err := dense.encodeImage(i, set)
		if err != nil {
			t.Fatal(err)
		}
		da := slices.Clone(a.blobs)
		b, err := sparse.encodeImage(i, set)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(da, b.blobs) {
			t.Fatalf("image %d: dense and sparse paths serialize differently", i)
		}
	}
}

func TestCSV(t *testing.T) {
	tr := newTestRun(9, 3, 3, layerSpec{[]int{2, 2, 2}, 0.3}, layerSpec{[]int{3}, 0.5})
	tr.hdr.Layers[1].Name = `fc,"1"`
	r, err := Open(tr.write(t, 1, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var want strings.Builder
	want.WriteString("image,layer,step,neuron\n")
	for i := 1; i < 3; i++ {
		for _, e := range tr.rasters[i] {
			name := tr.hdr.Layers[e.Layer].Name
			if e.Layer == 1 {
				name = `"fc,""1"""`
			}
			fmt.Fprintf(&want, "%d,%s,%d,%d\n", i, name, e.Step, e.Neuron)
		}
	}
	var got bytes.Buffer
	if err := r.WriteCSV(&got, 1, 2); err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Errorf("CSV:\n%s\nwant\n%s", got.String(), want.String())
	}
	if err := r.WriteCSV(&got, 2, 2); err == nil {
		t.Error("WriteCSV past the last image: no error")
	}
}

// TestWriterErrors: bad input is a one-line error naming the file, and a
// recording that is not complete never appears.
func TestWriterErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.spikes")
	layers := []Layer{{Name: "a", Index: 1, Shape: []int{2, 3, 3}}, {Name: "b", Index: 3, Shape: []int{4}}}
	if _, err := Create(path, Header{T: 0, Images: 1, Layers: layers}); err == nil || !strings.Contains(err.Error(), "T = 0") {
		t.Errorf("T = 0: %v", err)
	}
	if _, err := Create(path, Header{T: 4, Images: 1, Layers: []Layer{{Name: "z", Shape: []int{2, 0, 3}}}}); err == nil || !strings.Contains(err.Error(), "shape") {
		t.Errorf("empty shape: %v", err)
	}
	if _, err := Create(path, Header{T: 4, Images: 1, Layers: []Layer{{Name: "z", Shape: []int{4}, Neurons: 5}}}); err == nil {
		t.Error("neurons ≠ shape: no error")
	}
	if _, err := Create(path, Header{T: 4, Images: 1, Layers: []Layer{{Name: "z", Shape: []int{1 << 20, 1 << 13}}}}); err == nil || !strings.Contains(err.Error(), "2^32") {
		t.Errorf("more than 2^32 neurons: %v", err)
	}
	w, err := Create(path, Header{T: 4, Images: 3, Layers: layers})
	if err != nil {
		t.Fatal(err)
	}
	other, err := network.NewSpikeSet([]network.Shape{{2, 3, 3}, {4}}, 5)
	if err != nil {
		t.Fatal(err)
	}
	reshaped, err := network.NewSpikeSet([]network.Shape{{2, 9, 1}, {4}}, 4)
	if err != nil {
		t.Fatal(err)
	}
	beyond := w.NewSpikeSet()
	beyond.AddMapped(0, 4, []int32{0}, []uint32{18}) // position 18 of 18 neurons
	cases := []struct {
		image int
		set   *network.SpikeSet
		want  string
	}{
		{3, w.NewSpikeSet(), "image 3: the recording has 3 images"},
		{0, nil, "no recorded spikes"},
		{0, other, "spikes of 2 layers over T = 5, the recording has 2 layers over T = 4"},
		{0, reshaped, `layer 0 ("a"): spikes of shape [2,9,1], the recording's is [2,3,3]`},
		{0, beyond, "a spike beyond 4 steps × 18 neurons"},
	}
	for _, c := range cases {
		err := w.Add(c.image, c.set)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Add(%d, …): %v, want an error with %q", c.image, err, c.want)
		}
	}
	one := w.NewSpikeSet()
	one.Add(0, 1, []int32{0})
	one.Add(0, 4, []int32{17})
	one.Add(1, 4, []int32{3})
	if err := w.Add(1, one); err != nil {
		t.Fatal(err)
	}
	if err := w.Add(1, w.NewSpikeSet()); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("image added twice: %v", err)
	}
	if err := w.AddRaster(0, []network.RasterEvent{{Layer: 0, Neuron: 1, Step: 2}, {Layer: 0, Neuron: 0, Step: 2}}); err == nil || !strings.Contains(err.Error(), "not after") {
		t.Errorf("unordered raster: %v", err)
	}
	if err := w.AddRaster(0, []network.RasterEvent{{Layer: 2, Neuron: 0, Step: 1}}); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("raster layer out of range: %v", err)
	}
	if err := w.Add(0, w.NewSpikeSet()); err != nil {
		t.Fatal(err)
	}
	err = w.Close()
	if err == nil || !strings.Contains(err.Error(), "image 2 is missing") {
		t.Errorf("Close with a missing image: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("after a failed Close the directory holds %v", ents)
	}
	if err := w.Add(2, one); err == nil {
		t.Error("Add after Close: no error")
	}

	w, err = Create(path, Header{T: 4, Images: 1, Layers: layers})
	if err != nil {
		t.Fatal(err)
	}
	w.Abort()
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("after Abort the directory holds %v", ents)
	}
}

func TestLayersOf(t *testing.T) {
	net := &network.Network{Input: network.Shape{1, 4, 4}, Layers: []network.Layer{
		&network.Conv2d{LayerName: "c1", InC: 1, OutC: 2, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, Weight: make([]float32, 18), Bias: make([]float32, 2)},
		&network.ReLU{LayerName: "r1"},
		&network.Flatten{LayerName: "f"},
		&network.Linear{LayerName: "fc", In: 32, Out: 3, Weight: make([]float32, 96), Bias: make([]float32, 3)},
	}}
	ls, err := LayersOf(net)
	if err != nil {
		t.Fatal(err)
	}
	want := []Layer{{Name: "r1", Index: 1, Shape: []int{2, 4, 4}, Neurons: 32}}
	if len(ls) != 1 || ls[0].Name != want[0].Name || ls[0].Index != 1 || !slices.Equal(ls[0].Shape, want[0].Shape) || ls[0].Neurons != 32 {
		t.Errorf("LayersOf = %+v, want %+v", ls, want)
	}
}

// TestBeyondInt32 records a fake layer of 3·2³⁰ neurons (one step per
// block: 2·N > 2³²; sparse slots) through Add: the blocks read back, raster events
// (int32 neurons) are refused with a clear error.
func TestBeyondInt32(t *testing.T) {
	if strconv.IntSize == 32 {
		t.Skip("a layer of 3·2³⁰ neurons does not fit a 32-bit int")
	}
	var n64 int64 = 3 << 30
	N := int(n64)
	path := filepath.Join(t.TempDir(), "huge.spikes")
	w, err := Create(path, Header{T: 3, Images: 1, Layers: []Layer{{Name: "huge", Shape: []int{N}}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(w.Layout().Slots); got != 3 {
		t.Fatalf("%d slots, want 3", got)
	}
	// Neurons beyond int32 are given by position (AddMapped's table).
	set := w.NewSpikeSet()
	set.AddMapped(0, 1, []int32{0, 1}, []uint32{0, uint32(N - 1)})
	set.AddMapped(0, 3, []int32{0}, []uint32{1 << 31})
	ids := [][]uint32{{0, uint32(N - 1)}, {}, {1 << 31}}
	if err := w.Add(0, set); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	bs, err := r.Blocks(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for j, b := range bs {
		if b.FirstStep != j+1 || b.Steps != 1 || !slices.Equal(b.Bitmap.ToArray(), ids[j]) && len(ids[j]) > 0 {
			t.Errorf("block %d: first step %d, %d steps, ids %v, want %v", j, b.FirstStep, b.Steps, b.Bitmap.ToArray(), ids[j])
		}
	}
	if _, err := r.Spikes(0, 0); err == nil || !strings.Contains(err.Error(), "int32") {
		t.Errorf("Spikes of a layer beyond int32: %v", err)
	}
	if _, err := r.Bitmap(0, 0); err == nil || !strings.Contains(err.Error(), "3 blocks") {
		t.Errorf("Bitmap of a layer in blocks: %v", err)
	}
}
