package network_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/network"
)

// TestSpikeIDs: the ids the reference records decode to its raster, every
// image handed to OnImage in turn.
func TestSpikeIDs(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	net := snnref.RandomNet(r, snnref.Config{Kind: snnref.ResNet, Alpha: 1, Reset: network.ResetSoft})
	x := snnref.RandomImages(r, net, 3)
	const T = 9
	sizes := map[int]int{}
	shapes, _ := net.Shapes()
	for k, li := range net.SpikingLayers() {
		sizes[k] = shapes[li].Size()
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
		for k, ids := range rec.SpikeIDs { // one slot per layer here
			if !slices.IsSorted(ids) {
				t.Fatalf("slot %d not sorted", k)
			}
			got += int64(len(ids))
			if i == 0 {
				for _, id := range ids {
					first = append(first, network.RasterEvent{Layer: int32(k), Neuron: int32(int(id) % sizes[k]), Step: int32(int(id)/sizes[k] + 1)})
				}
			}
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
	slices.SortFunc(first, func(a, b network.RasterEvent) int {
		if a.Step != b.Step {
			return int(a.Step - b.Step)
		}
		if a.Layer != b.Layer {
			return int(a.Layer - b.Layer)
		}
		return int(a.Neuron - b.Neuron)
	})
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
