package network_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/network"
)

// TestRecordedSpikes: the spikes the reference records are its raster,
// every image handed to OnImage in turn, and the slots hold the ids the
// recording format documents (position·T + t − 1).
func TestRecordedSpikes(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	net := snnref.RandomNet(r, snnref.Config{Kind: snnref.ResNet, Alpha: 1, Reset: network.ResetSoft})
	x := snnref.RandomImages(r, net, 3)
	const T = 9
	shapes, _ := net.Shapes()
	var layerShapes []network.Shape
	for _, li := range net.SpikingLayers() {
		layerShapes = append(layerShapes, shapes[li])
	}
	seen := 0
	opts := network.SimOptions{T: T, RecordSpikes: true, Raster: true}
	var first []network.RasterEvent
	opts.OnImage = func(i int, rec *network.ImageRecord) error {
		if i != seen {
			t.Fatalf("image %d after %d", i, seen)
		}
		seen++
		var total int64
		for _, n := range rec.Spikes {
			total += n
		}
		var got int64
		for k, sl := range rec.Recorded.Slots() { // one slot per layer here
			ids := rec.Recorded.IDs(k, nil)
			if sl.Layer != k || sl.FirstStep != 1 || sl.Steps != T || !slices.IsSorted(ids) {
				t.Fatalf("slot %d: %+v, ids sorted %v", k, sl, slices.IsSorted(ids))
			}
			got += int64(len(ids))
			if i == 0 {
				// Decode the documented id by brute force over the neurons.
				for _, id := range ids {
					p, step := int(id)/T, int(id)%T+1
					n := -1
					for m := range layerShapes[k].Size() {
						if network.SpikePosition(layerShapes[k], m) == p {
							n = m
						}
					}
					first = append(first, network.RasterEvent{Layer: int32(k), Neuron: int32(n), Step: int32(step)})
				}
			}
		}
		if i == 0 && !slices.Equal(rec.Recorded.Spikes(), sortedRaster(slices.Clone(first))) {
			t.Fatalf("Spikes differs from the decoded ids")
		}
		if got != total {
			t.Fatalf("image %d: %d ids for %d spikes", i, got, total)
		}
		return nil
	}
	res, err := snnref.Run(net, x, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	first = sortedRaster(first)
	if seen != 3 || !slices.Equal(first, res.Raster) {
		t.Fatalf("%d images seen; ids of image 0 decode to %d events, raster %d", seen, len(first), len(res.Raster))
	}
}

func TestSpikeBlockSteps(t *testing.T) {
	for _, tc := range []struct {
		n       int64
		T, want int
	}{{100, 32, 32}, {1 << 28, 32, 16}, {1 << 32, 8, 1}, {3 << 30, 4, 1}} {
		if got := network.SpikeBlockSteps(int(tc.n), tc.T); got != tc.want {
			t.Errorf("SpikeBlockSteps(%d, %d) = %d, want %d", tc.n, tc.T, got, tc.want)
		}
	}
}

func sortedRaster(ev []network.RasterEvent) []network.RasterEvent {
	network.SortRaster(ev)
	return ev
}

// TestSpikePosition: positions are a permutation of the neurons, column
// by column, then row, then channel.
func TestSpikePosition(t *testing.T) {
	sh := network.Shape{3, 4, 5}
	seen := map[int]bool{}
	for c := range 3 {
		for h := range 4 {
			for w := range 5 {
				p := network.SpikePosition(sh, (c*4+h)*5+w)
				if want := (w*4+h)*3 + c; p != want || seen[p] {
					t.Fatalf("neuron (%d,%d,%d): position %d, want %d", c, h, w, p, want)
				}
				seen[p] = true
			}
		}
	}
	if p := network.SpikePosition(network.Shape{60}, 17); p != 17 {
		t.Errorf("a vector's position %d, want 17", p)
	}
}
