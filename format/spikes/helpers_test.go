package spikes

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/evsnn/evsnn/network"
)

// testRun is a synthetic recording: a header and every image's raster.
type testRun struct {
	hdr     Header
	rasters [][]network.RasterEvent
}

// layerSpec is a synthetic layer: its shape and the probability that a
// neuron fires at a step; huge layers get a fixed handful of spikes
// instead (their neurons are not enumerated).
type layerSpec struct {
	shape []int
	rate  float64
}

// newTestRun draws images rasters over T steps for layers.
func newTestRun(seed uint64, T, images int, specs ...layerSpec) *testRun {
	r := rand.New(rand.NewPCG(seed, 7))
	h := Header{T: T, Images: images, Engine: "test", Provenance: map[string]string{"seed": "x"}}
	for k, s := range specs {
		h.Layers = append(h.Layers, Layer{Name: "l" + string(rune('a'+k)), Index: 2 * k, Shape: s.shape})
	}
	h.complete()
	tr := &testRun{hdr: h}
	for range images {
		var ev []network.RasterEvent
		for t := 1; t <= T; t++ {
			for k, s := range specs {
				N := h.Layers[k].Neurons
				if N > 1<<22 {
					// Corners of the id space: first and last neuron at
					// block edges, plus a few random ones.
					ns := []int{0, N - 1, r.IntN(N), r.IntN(N)}
					slices.Sort(ns)
					ns = slices.Compact(ns)
					for _, n := range ns {
						corner := n == 0 && t == 1 || n == N-1 && t == T
						if corner || r.Float64() < s.rate {
							ev = append(ev, network.RasterEvent{Layer: int32(k), Neuron: int32(n), Step: int32(t)})
						}
					}
					continue
				}
				// Bursts make runs: a neuron's rate is s.rate times a
				// per-(step, region) factor.
				for n := 0; n < N; n++ {
					p := s.rate
					if (n/64+t)%5 == 0 {
						p = min(1, 4*p)
					}
					if r.Float64() < p {
						ev = append(ev, network.RasterEvent{Layer: int32(k), Neuron: int32(n), Step: int32(t)})
					}
				}
			}
		}
		tr.rasters = append(tr.rasters, ev)
	}
	return tr
}

// write records tr at a new file with the given number of goroutines
// adding images in a shuffled order.
func (tr *testRun) write(tb testing.TB, workers int, seed uint64) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "run.spikes")
	w, err := Create(path, tr.hdr)
	if err != nil {
		tb.Fatal(err)
	}
	order := rand.New(rand.NewPCG(seed, 1)).Perm(len(tr.rasters))
	if workers <= 1 {
		slices.Sort(order)
	}
	errs := make(chan error, workers)
	next := make(chan int)
	for range max(workers, 1) {
		go func() {
			var err error
			for i := range next {
				if e := w.AddRaster(i, tr.rasters[i]); e != nil && err == nil {
					err = e
				}
			}
			errs <- err
		}()
	}
	for _, i := range order {
		next <- i
	}
	close(next)
	for range max(workers, 1) {
		if err := <-errs; err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}

// storageIDs computes the stored ids of one image, layer and block
// straight from the documented formula, independently of the package.
func storageIDs(h *Header, ev []network.RasterEvent, k, t0, S int) []uint32 {
	l := h.Layers[k]
	C, H, W := l.Neurons, 1, 1
	if len(l.Shape) == 3 {
		C, H, W = l.Shape[0], l.Shape[1], l.Shape[2]
	}
	var ids []uint32
	for _, e := range ev {
		t := int(e.Step)
		if int(e.Layer) != k || t < t0 || t >= t0+S {
			continue
		}
		n := int(e.Neuron)
		c, h, w := n/(H*W), n/W%H, n%W
		p := (w*H+h)*C + c
		ids = append(ids, uint32(p*S+t-t0))
	}
	slices.Sort(ids)
	return ids
}

func readFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// mustSet returns the spike set of one image's raster in lay.
func mustSet(tb testing.TB, lay *Layout, raster []network.RasterEvent) *network.SpikeSet {
	tb.Helper()
	set, err := network.NewSpikeSet(lay.spikeShapes(), lay.T)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := lay.fillSet(set, raster, nil); err != nil {
		tb.Fatal(err)
	}
	return set
}
